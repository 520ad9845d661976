import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ClosedError, deserialize, IpcError, nativeAvailable, serialize, SerializationError } from "@ipc/core";
import { Process } from "@ipc/process";
import { SharedMemory } from "@ipc/shared";

const targets = new URL("./fixtures/targets.mjs", import.meta.url).href;
const attach = fileURLToPath(new URL("./fixtures/attach-by-name.mjs", import.meta.url));
const leak = fileURLToPath(new URL("./fixtures/leak-segments.mjs", import.meta.url));

/**
 * Runs the leak fixture to its end and on until its tracker has finished too: the tracker shares
 * the fixture's stderr, which ends only when the tracker exits.
 */
async function runLeaking(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [leak, ...args], { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  await new Promise((resolve) => child.stderr.on("close", resolve));
  return { stdout, stderr };
}
const td = new TextDecoder();
const codeOf = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).name;
  }
  return "no error";
};

describe.runIf(nativeAvailable())("SharedMemory (Python's shared_memory)", () => {
  it("create, attach by name, size, buf, close, unlink, and Python's errors (SHM-01..04)", () => {
    const name = `ipc_test_${process.pid}_basics`;
    const shm = new SharedMemory({ name, create: true, size: 512 });
    try {
      expect(shm.name).toBe(name);
      expect(shm.size).toBeGreaterThanOrEqual(512);
      expect(shm.buf.length).toBeGreaterThanOrEqual(shm.size);
      expect(String(shm)).toContain(name);
      expect(String(shm)).toContain("512");
      shm.buf[0] = 42;
      const same = new SharedMemory({ name });
      expect(same.buf[0]).toBe(42);
      // attaching ignores a requested size: the block keeps its own
      const bigger = new SharedMemory({ name, size: 20 * 512 });
      expect(bigger.size).toBe(512);
      expect(new SharedMemory({ name: `/${name}` }).buf[0]).toBe(42); // a leading "/" is ignored
      same.close();
      expect(() => same.buf).toThrow(ClosedError);
      expect(shm.buf[0]).toBe(42); // closing one view leaves the others
      // the name is taken; a name that does not exist; bad sizes and names
      expect(codeOf(() => new SharedMemory({ name, create: true, size: 10 }))).toBe("EEXIST");
      expect(codeOf(() => new SharedMemory({ name: `${name}_nope` }))).toBe("ENOENT");
      for (const size of [-2, -1, 0, undefined, 1.5]) expect(() => new SharedMemory({ create: true, size })).toThrow(RangeError);
      expect(() => new SharedMemory({})).toThrow(RangeError);
      expect(() => new SharedMemory({ name: `${name}\0a` })).toThrow(RangeError);
      expect(() => new SharedMemory({ name: "a/b" })).toThrow(RangeError);
      expect(() => new SharedMemory(null as never)).toThrow(TypeError);
    } finally {
      shm.unlink();
    }
    expect(codeOf(() => shm.unlink())).toBe("ENOENT");
    expect(codeOf(() => new SharedMemory({ name }))).toBe("ENOENT");
  });

  it("generated names are new ones each time", () => {
    const a = new SharedMemory({ create: true, size: 16 });
    const b = new SharedMemory({ create: true, size: 16 });
    try {
      expect(a.name).not.toBe(b.name);
      expect(a.name).toMatch(/^ipc_[0-9a-f]{16}$/);
    } finally {
      a.unlink();
      b.unlink();
    }
  });

  it("serialized and revived: the same block by name; once unlinked, reviving fails with ENOENT (SHM-05, SHM-06)", () => {
    const shm = new SharedMemory({ create: true, size: 64 });
    shm.buf.set(new TextEncoder().encode("pickle"));
    const bytes = serialize(shm);
    const back = deserialize<SharedMemory>(bytes);
    expect(back.name).toBe(shm.name);
    expect(td.decode(back.buf.subarray(0, 6))).toBe("pickle");
    back.buf.set(new TextEncoder().encode("newval"));
    expect(td.decode(shm.buf.subarray(0, 6))).toBe("newval");
    shm.buf.set(new TextEncoder().encode("oldval"));
    expect(td.decode(back.buf.subarray(0, 6))).toBe("oldval");
    shm.close();
    shm.unlink();
    let error: unknown;
    try {
      deserialize(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SerializationError);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe("ENOENT");
  });

  it("across processes: one this program did not start attaches by name; a child gets the object (SHM-07)", async () => {
    const shm = new SharedMemory({ create: true, size: 32 });
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [attach, shm.name, "howdy"], { timeout: 30_000 });
      expect(stdout.trim()).toBe("32");
      expect(td.decode(shm.buf.subarray(0, 5))).toBe("howdy");
      for (const [context, text] of [
        ["process", "HELLO"],
        ["thread", "THERE"],
      ] as const) {
        const p = new Process({ module: targets, target: "writeShm", args: [shm, text], context });
        p.start();
        await p.join({ timeout: 30_000 });
        expect(p.exitCode).toBe(0);
        expect(td.decode(shm.buf.subarray(0, 5))).toBe(text);
      }
    } finally {
      shm.unlink();
    }
  }, 60_000);
});

describe.runIf(nativeAvailable())("SharedMemory cleanup (Python's resource tracker)", () => {
  for (const how of ["exit", "kill"]) {
    it(`a segment its creator left linked is removed once the creator is gone (${how === "kill" ? "SIGKILL" : "normal exit"}), with a warning`, async () => {
      const { stdout, stderr } = await runLeaking([how]);
      const [name] = /names: (\S+)/.exec(stdout)!.slice(1);
      expect(stderr).toContain(`leaked SharedMemory segment(s) to clean up at shutdown: ${name}\n`);
      expect(stderr).toMatch(/there appear to be 1 leaked/); // the one it unlinked itself is not reported
      expect(existsSync(`/dev/shm/${name}`)).toBe(false);
    }, 60_000);
  }

  it("a segment a process child created outlives the child while its tree runs, and goes with the tree", async () => {
    const { stdout, stderr } = await runLeaking(["kill", "tree"]);
    expect(stdout).toContain("child segment alive: true");
    const names = /names: (.+)/.exec(stdout)![1].split(" ");
    expect(names).toHaveLength(2);
    expect(stderr).toMatch(/there appear to be 2 leaked/);
    for (const name of names) {
      expect(stderr).toContain(name);
      expect(existsSync(`/dev/shm/${name}`)).toBe(false);
    }
  }, 60_000);

  it("a handle not made by this process tree is refused: no segment is mapped by a forged name", () => {
    const shm = new SharedMemory({ create: true, size: 16 });
    try {
      const bytes = Buffer.from(serialize(shm));
      const text = bytes.toString("latin1");
      const mac = /[0-9a-f]{64}/.exec(text)!;
      const forged = Buffer.from(bytes);
      forged.write(mac[0].startsWith("0") ? "1" : "0", mac.index, "latin1");
      let error: unknown;
      try {
        deserialize(forged);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(IpcError);
      expect((error as Error).message).toMatch(/not made by this process tree/);
      expect(deserialize<SharedMemory>(bytes).name).toBe(shm.name);
    } finally {
      shm.unlink();
    }
  });
});

describe.runIf(!nativeAvailable())("SharedMemory without @ipc/native", () => {
  it("says that it needs the addon", () => {
    expect(() => new SharedMemory({ create: true, size: 16 })).toThrow(IpcError);
    expect(() => new SharedMemory({ create: true, size: 16 })).toThrow(/@ipc\/native/);
  });
});

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ClosedError, deserialize, IpcError, nativeAvailable, serialize, SerializationError } from "@ipc/core";
import { Process } from "@ipc/process";
import { SharedMemory } from "@ipc/shared";

const targets = new URL("./fixtures/targets.mjs", import.meta.url).href;
const attach = fileURLToPath(new URL("./fixtures/attach-by-name.mjs", import.meta.url));
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

describe.runIf(!nativeAvailable())("SharedMemory without @ipc/native", () => {
  it("says that it needs the addon", () => {
    expect(() => new SharedMemory({ create: true, size: 16 })).toThrow(IpcError);
    expect(() => new SharedMemory({ create: true, size: 16 })).toThrow(/@ipc\/native/);
  });
});

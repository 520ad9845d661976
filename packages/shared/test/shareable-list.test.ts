import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { deserialize, nativeAvailable, serialize } from "@ipc/core";
import { Process } from "@ipc/process";
import { ShareableList } from "@ipc/shared";

const targets = new URL("./fixtures/targets.mjs", import.meta.url).href;
const attach = fileURLToPath(new URL("./fixtures/attach-list.mjs", import.meta.url));

describe.runIf(nativeAvailable())("ShareableList (Python's, in a named SharedMemory)", () => {
  it("items of every kind, Python's fixed slot sizing ('encodés' fits, 'encodées' does not), count and index", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const sl = new ShareableList([1.5, "encodés", null, true, 2n ** 40n, bytes, -7]);
    try {
      expect(sl.length).toBe(7);
      expect(sl.toArray()).toEqual([1.5, "encodés", null, true, 2n ** 40n, bytes, -7]);
      expect(sl.get(-1)).toBe(-7);
      sl.set(1, "howdy");
      expect(sl.get(1)).toBe("howdy");
      sl.set(1, "encodés"); // 8 bytes: fits the 8 it got
      expect(() => sl.set(1, "encodées")).toThrow(RangeError); // 9 bytes do not
      expect(sl.get(1)).toBe("encodés");
      sl.set(0, 42n); // a number slot (8 bytes) takes any non-string item
      sl.set(2, 3.25);
      expect([sl.get(0), sl.get(2)]).toEqual([42n, 3.25]);
      expect(() => sl.set(5, new Uint8Array(9))).toThrow(RangeError);
      expect(() => sl.set(0, undefined as never)).toThrow(TypeError);
      expect(() => sl.get(7)).toThrow(RangeError);
      expect(sl.count(true)).toBe(1);
      expect(sl.index(-7)).toBe(6);
      expect(() => sl.index("nope")).toThrow(RangeError);
      expect([...sl].length).toBe(7);
      expect(() => new ShareableList([undefined as never])).toThrow(TypeError);
      const empty = new ShareableList([]);
      expect(empty.length).toBe(0);
      empty.shm.unlink();
    } finally {
      sl.shm.unlink();
    }
  });

  it("attached by name (a process this program did not start) and handed to children: one list", async () => {
    const sl = new ShareableList([21, "parent", false, 5n]);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [attach, sl.shm.name], { timeout: 30_000 });
      expect(stdout.trim()).toBe('[21,"parent",false,"5n"]');
      expect(sl.get(2)).toBe(true);
      const back = deserialize<ShareableList>(serialize(sl));
      expect(back.shm.name).toBe(sl.shm.name);
      for (const context of ["thread", "process"] as const) {
        const p = new Process({ module: targets, target: "touchList", args: [sl], context });
        p.start();
        await p.join({ timeout: 30_000 });
        expect(p.exitCode).toBe(0);
      }
      expect(sl.get(0)).toBe(84);
      expect(sl.get(1)).toBe("child");
      expect(() => new ShareableList({ name: `${sl.shm.name}_nope` })).toThrow(/ENOENT|no such/i);
    } finally {
      sl.shm.unlink();
    }
  }, 60_000);
});

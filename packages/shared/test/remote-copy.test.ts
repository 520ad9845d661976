/**
 * Shared data used from a process without its memory: a remote copy (made here with core's
 * remoteCopyOf: every access crosses a real socket to this process's broker) reads and writes
 * through the class's `exposed` table, under the object's lock; and the home checks what a remote
 * caller sends, whatever it is.
 */
import { describe, expect, it } from "vitest";
import { exportToBroker, remoteClient, remoteCopyOf } from "@ipc/core/internal";
import { SharedArray, SharedStruct, Value } from "@ipc/shared";

describe("a remote copy of shared data", () => {
  it("Value, SharedArray and SharedStruct read and write the home's memory", async () => {
    const v = new Value("i", 5);
    const fv = remoteCopyOf(v);
    expect(fv.value).toBe(5);
    fv.value = 7;
    expect(v.value).toBe(7);
    await fv.withLock(() => (fv.value += 1));
    expect(v.value).toBe(8);
    expect(String(fv)).toBe("<Value 'i' remote>");

    const a = new SharedArray("d", [1, 2, 3, 4]);
    const fa = remoteCopyOf(a);
    expect(fa.get(-1)).toBe(4);
    fa.set(0, 10);
    expect(a.get(0)).toBe(10);
    expect(fa.slice(1, 3)).toEqual([2, 3]);
    fa.setAll([7, 8], 2);
    expect(a.toArray()).toEqual([10, 2, 7, 8]);
    expect(() => fa.get(4)).toThrow(RangeError);
    expect(() => fa.raw).toThrow(/needs the memory mapped/);

    const s = new SharedStruct({ x: "i", y: "d" }, { x: 1, y: 0.5 });
    const fs = remoteCopyOf(s);
    expect(fs.toObject()).toEqual({ x: 1, y: 0.5 });
    fs.x = 3;
    expect(s.x).toBe(3);
    expect(fs.y).toBe(0.5);
  });

  it("the home refuses a bad index, field or value from a remote caller with a named error", () => {
    const call = (obj: object, method: string, args: unknown[]) => remoteClient().callSync(exportToBroker(obj), method, args);
    const a = new SharedArray("i", 4);
    expect(() => call(a, "load", [4])).toThrow(RangeError);
    expect(() => call(a, "load", ["0"])).toThrow(TypeError);
    expect(() => call(a, "store", [0, "text"])).toThrow(TypeError);
    expect(() => call(a, "storeRange", [[1, 2, 3], 2])).toThrow(RangeError);
    expect(() => call(a, "storeRange", ["not an array", 0])).toThrow(TypeError);
    expect(() => call(a, "loadRange", [0, "x"])).toThrow(TypeError);
    expect(a.toArray()).toEqual([0, 0, 0, 0]);
    const s = new SharedStruct({ x: "i" });
    expect(() => call(s, "load", ["nope"])).toThrow(TypeError);
    expect(() => call(s, "store", ["__proto__", 1])).toThrow(TypeError);
    const v = new Value("b", 0);
    expect(() => call(v, "store", ["x"])).toThrow(TypeError);
    expect(() => call(v, "toString", [])).toThrow(/not exposed/);
    expect(v.value).toBe(0);
  });
});

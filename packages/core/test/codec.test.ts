import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import { ClosedError, deserialize, EmptyError, registerClass, serialize, SerializationError, WorkerLostError, ProcessError, IpcError } from "@ipc/core";
import { allocLarge, recycleSerialized, serializeOr } from "@ipc/core/internal";

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
registerClass(Point);

const rt = <T>(v: T): T => deserialize<T>(serialize(v));

describe("serialize / deserialize", () => {
  it("round-trips the structured-clone set", () => {
    const value = {
      n: [0, 1, 255, 256, -1, 2 ** 31, -(2 ** 31), 1.5, NaN, Infinity, -0],
      s: ["", "a", "héllo wörld", "😀".repeat(50), "x".repeat(100_000)],
      b: [true, false, null, undefined],
      big: [0n, 1n, -1n, 2n ** 100n, -(2n ** 64n)],
      m: new Map<unknown, unknown>([["k", 1], [{ o: 1 }, [2]]]),
      set: new Set([1, "2", 3n]),
      d: new Date(1234567),
      r: /a+b/gi,
      ab: new Uint8Array([1, 2, 3]).buffer,
      views: [new Int16Array([-1, 2]), new Float64Array([1.5]), new BigInt64Array([-5n]), Buffer.from("buf"), new DataView(new ArrayBuffer(4))],
      sparse: [1, , 3],
      boxed: [Object(1), Object("s"), Object(true)],
    };
    const out = rt(value);
    expect(out.n.slice(0, 10)).toEqual(value.n.slice(0, 10));
    expect(Object.is(out.n[10], -0)).toBe(true);
    expect(out.s).toEqual(value.s);
    expect(out.b).toEqual(value.b);
    expect(out.big).toEqual(value.big);
    expect([...out.m.keys()][1]).toEqual({ o: 1 });
    expect(out.set).toEqual(value.set);
    expect(out.d.getTime()).toBe(1234567);
    expect(out.r.source).toBe("a+b");
    expect(out.r.flags).toBe("gi");
    expect(new Uint8Array(out.ab)).toEqual(new Uint8Array([1, 2, 3]));
    expect(out.views[0]).toEqual(new Int16Array([-1, 2]));
    expect(Buffer.isBuffer(out.views[3])).toBe(true);
    expect(out.views[4]).toBeInstanceOf(DataView);
    expect(1 in out.sparse).toBe(false);
    expect(out.boxed[0]).toBeInstanceOf(Number);
  });

  it("keeps circular and shared references", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    const shared = { x: 1 };
    const out = rt({ a, list: [shared, shared] });
    expect(out.a.self).toBe(out.a);
    expect(out.list[0]).toBe(out.list[1]);
  });

  it("revives errors with name, message, stack, code and cause", () => {
    const cause = new RangeError("inner");
    const e = new TypeError("outer", { cause });
    const out = rt(e);
    expect(out).toBeInstanceOf(TypeError);
    expect(out.message).toBe("outer");
    expect(out.stack).toBe(e.stack);
    expect(out.cause).toBeInstanceOf(RangeError);
    const ipc = rt(new WorkerLostError("gone"));
    expect(ipc).toBeInstanceOf(WorkerLostError);
    expect(ipc).toBeInstanceOf(ProcessError);
    expect(ipc.name).toBe("WorkerLostError");
    expect((ipc as IpcError).code).toBe("ERR_IPC_WORKER_LOST");
    const custom = Object.assign(new Error("x"), { name: "MyError", errno: 3 });
    const c = rt(custom);
    expect(c.name).toBe("MyError");
    expect((c as unknown as { errno: number }).errno).toBe(3);
  });

  it("revives registered classes with their prototype", () => {
    const p = rt(new Point(3, 4));
    expect(p).toBeInstanceOf(Point);
    expect(p.norm()).toBe(5);
  });

  it("revives registered classes in another thread", async () => {
    const url = new URL("./fixtures/point-worker.mjs", import.meta.url);
    const w = new Worker(url, { workerData: serialize([new Point(6, 8)]) });
    const reply = await new Promise<Uint8Array>((resolve, reject) => {
      w.once("message", resolve);
      w.once("error", reject);
    });
    const [norm, back] = deserialize<[number, { x: number }]>(reply);
    expect(norm).toBe(10);
    expect(back.x).toBe(12);
    await w.terminate();
  });

  it("refuses functions, symbols and unregistered classes naming the path", () => {
    expect(() => serialize({ args: [1, { onDone() {} }] })).toThrow(new SerializationError("value.args[1].onDone: function onDone"));
    expect(() => serialize([Symbol("s")])).toThrow(/value\[0\]: symbol/);
    class Unknown {}
    expect(() => serialize({ "a b": new Unknown() })).toThrow(/value\["a b"\]: Unknown instance/);
    expect(() => serialize(new Map([[1, () => 0]]))).toThrow(/<Map entry 0>: function/);
    expect(() => serialize(new SharedArrayBuffer(4))).toThrow(/SharedArrayBuffer/);
    expect(() => serialize(new WeakMap())).toThrow(SerializationError);
  });

  it("rejects malformed bytes with SerializationError", () => {
    expect(() => deserialize(new Uint8Array([200]))).toThrow(SerializationError);
    expect(() => deserialize(new Uint8Array([7, 10, 65]))).toThrow(/truncated/);
    expect(() => deserialize(new Uint8Array([18, 5]))).toThrow(/back-reference/);
    expect(() => deserialize(new Uint8Array([1, 1]))).toThrow(/trailing/);
    expect(() => deserialize("x" as never)).toThrow(TypeError);
  });

  it("never crashes on random bytes (fuzz)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          deserialize(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(SerializationError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips arbitrary JSON-like values (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(rt(v)).toEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it("arrays of numbers travel as one block of int32 or float64, exactly (length 16 and up)", () => {
    const ints = Array.from({ length: 1000 }, (_, i) => i * (i % 2 ? -1 : 1));
    const floats = [0.5, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31) - 1, Number.MAX_VALUE, Number.MIN_VALUE, 1e-300, ...ints.slice(0, 10)];
    // the block forms are smaller than item by item for large values: 4 or 8 bytes per number
    expect(serialize(ints).byteLength).toBeLessThanOrEqual(4 * ints.length + 8);
    expect(rt(ints)).toEqual(ints);
    const back = rt(floats);
    expect(back.length).toBe(floats.length);
    back.forEach((v, i) => expect(Object.is(v, floats[i])).toBe(true)); // -0 and NaN stay as they were
    // fewer than 16, a hole, or anything but a number: item by item, as before
    for (const v of [[1, 2, 3], [...ints.slice(0, 20), "x"], [...ints.slice(0, 20), 1n], [...ints.slice(0, 20), null]]) expect(rt(v)).toEqual(v);
    const holey = ints.slice(0, 20);
    delete holey[5];
    const h = rt(holey);
    expect(5 in h).toBe(false);
    expect(h).toEqual(holey);
    // the same array twice, and an array inside: references are kept
    const shared = ints.slice(0, 32);
    const twice = rt({ a: shared, b: shared, c: [shared] });
    expect(twice.a).toBe(twice.b);
    expect(twice.c[0]).toBe(twice.a);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer(), fc.double()), { minLength: 16, maxLength: 200 }), (xs) => {
        const ys = rt(xs);
        expect(ys.length).toBe(xs.length);
        xs.forEach((x, i) => expect(Object.is(ys[i], x)).toBe(true));
      }),
      { numRuns: 300 },
    );
  });

  it("a block of numbers that claims more than the data holds is refused", () => {
    const bytes = Buffer.from(serialize(Array.from({ length: 100 }, (_, i) => i)));
    expect(() => deserialize(bytes.subarray(0, 50))).toThrow(SerializationError);
    expect(() => deserialize(bytes.subarray(0, 50))).toThrow(/array length exceeds data/);
  });

  it("exposes error classes with stable names and codes", () => {
    expect(new EmptyError().name).toBe("EmptyError");
    expect(new ClosedError("c").code).toBe("ERR_IPC_CLOSED");
    expect(IpcError.isIpcError(new ClosedError())).toBe(true);
    expect(IpcError.isIpcError(new Error())).toBe(false);
  });
});

describe("serializeOr", () => {
  it("lends the encoded bytes to a consumer, or returns them as serialize does", () => {
    const value = { id: 1, op: "put", list: [1, "two", { three: 3n }] };
    let lent: Uint8Array | undefined;
    expect(serializeOr(value, (b) => ((lent = b.slice()), true))).toBeUndefined();
    expect(deserialize(lent!)).toEqual(value);
    const own = serializeOr(value, () => false)!;
    expect(Buffer.compare(Buffer.from(own), Buffer.from(serialize(value)))).toBe(0);
    // a large value is handed over, not copied, and stays intact after later encodes
    const big = { blob: new Uint8Array(1 << 20).fill(7) };
    const bigBytes = serializeOr(big, () => false)!;
    serializeOr({ other: 1 }, () => true);
    expect((deserialize(bigBytes) as typeof big).blob.every((x) => x === 7)).toBe(true);
  });

  it("reuses a large message's buffer once it is given back, never one still handed out", () => {
    const big = (v: number) => ({ blob: new Uint8Array(1 << 20).fill(v) });
    const first = serializeOr(big(1), () => false)!;
    // handed out while it streams; the next large message gets memory of its own
    const second = serializeOr(big(2), () => false)!;
    expect(second.buffer).not.toBe(first.buffer);
    recycleSerialized(first);
    recycleSerialized(first); // a second give-back of the same bytes is ignored
    const third = serializeOr(big(3), () => false)!;
    const fourth = serializeOr(big(4), () => false)!;
    // the given-back buffer serves one of the next messages, and only one
    expect([third.buffer, fourth.buffer].filter((b) => b === first.buffer)).toHaveLength(1);
    expect(third.buffer).not.toBe(fourth.buffer);
    expect([second, third, fourth].map((b) => (deserialize(b) as { blob: Uint8Array }).blob.every((x, _i, a) => x === a[0]))).toEqual([true, true, true]);
    expect([second, third, fourth].map((b) => (deserialize(b) as { blob: Uint8Array }).blob[0])).toEqual([2, 3, 4]);
    // small or foreign bytes are not taken
    recycleSerialized(new Uint8Array(100));
    recycleSerialized(new Uint8Array(new SharedArrayBuffer(1 << 20)));
    expect((deserialize(serializeOr(big(5), () => false)!) as { blob: Uint8Array }).blob[0]).toBe(5);
  });

  it("names the path of what cannot be encoded, and a consumer may serialize again", () => {
    expect(() => serializeOr({ a: [1, () => 2] }, () => true)).toThrow(/value\.a\[1\]/);
    const nested = serializeOr({ outer: 1 }, (b) => {
      // re-entrant: a fresh encoder, the lent view stays valid
      const inner = serialize({ inner: 2 });
      expect(deserialize(inner)).toEqual({ inner: 2 });
      expect(deserialize(b.slice())).toEqual({ outer: 1 });
      return true;
    });
    expect(nested).toBeUndefined();
  });
});

describe("decoded typed arrays", () => {
  it("small ones share a slab but never each other's bytes, and stay aligned for their type", () => {
    const values = Array.from({ length: 200 }, (_, i) => (i % 2 ? new Float64Array([i, i + 0.5, -i]) : new Uint8Array(37).fill(i)));
    const out = values.map((v) => deserialize<Float64Array | Uint8Array>(serialize(v)));
    for (let i = 0; i < values.length; i++) expect(out[i]).toEqual(values[i]);
    // writing into one decoded value leaves the others intact
    (out[0] as Uint8Array).fill(255);
    for (let i = 1; i < values.length; i++) expect(out[i]).toEqual(values[i]);
    for (const o of out) expect(o.byteOffset % 8).toBe(0);
  });

  it("4 KiB and more get an own, exact ArrayBuffer; an ArrayBuffer value is always exact", () => {
    const big = deserialize<Uint8Array>(serialize(new Uint8Array(4096).fill(7)));
    expect(big.buffer.byteLength).toBe(4096);
    const ab = deserialize<ArrayBuffer>(serialize(new Uint8Array([1, 2, 3]).buffer));
    expect(ab.byteLength).toBe(3);
  });

  it("large arrays from shared memory (256 KiB and more: huge-page buffers with the addon) are own, exact, plain and independent", () => {
    const values = [new Uint8Array(300_000).fill(5), new Float64Array((1 << 20) / 8).fill(2.5), new Uint8Array((3 << 20) + 5).fill(9)];
    const out = values.map((value) => {
      const bytes = serialize(value);
      const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
      shared.set(bytes);
      return deserialize<Uint8Array | Float64Array>(shared);
    });
    // element-wise toEqual takes seconds per MiB: compare the bytes
    const bytesOf = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    const same = (a: ArrayBufferView, b: ArrayBufferView) => a.constructor === b.constructor && bytesOf(a).equals(bytesOf(b));
    out.forEach((o, k) => {
      expect(same(o, values[k]!)).toBe(true);
      expect(o.buffer).toBeInstanceOf(ArrayBuffer);
      expect(o.buffer.byteLength).toBe(values[k]!.byteLength);
    });
    (out[0] as Uint8Array).fill(0);
    expect(same(out[1]!, values[1]!) && same(out[2]!, values[2]!)).toBe(true);
  });

  it("allocLarge: exact-size plain buffers below and above the huge-page threshold", () => {
    for (const n of [0, 10, 65536, 256 * 1024, (1 << 20) + 3]) {
      const a = allocLarge(n);
      expect(a.byteLength).toBe(n);
      expect(a.byteOffset).toBe(0);
      expect(a.buffer).toBeInstanceOf(ArrayBuffer);
      expect(a.buffer.byteLength).toBe(n);
    }
  });

  it("an item in shared memory decodes the same as from private memory (copied out at once from 256 bytes)", () => {
    for (const value of [{ a: new Uint8Array(300).fill(3), s: "x".repeat(500) }, new Float32Array(100).fill(1.5), [1, "two", { three: 3 }]]) {
      const bytes = serialize(value);
      const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength + 8), 4, bytes.byteLength);
      shared.set(bytes);
      const out = deserialize(shared);
      expect(out).toEqual(value);
      // nothing decoded is a view of the shared input
      if (out instanceof Float32Array) expect(out.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    }
  });
  it("objects of any number of keys round-trip in order (the key count grows past one byte in place)", () => {
    for (const n of [0, 1, 127, 128, 200, 16_383, 16_384, 20_000]) {
      const o: Record<string, number> = {};
      for (let i = 0; i < n; i++) o[`k${i}`] = i;
      // integer-like keys come first, as Object.keys lists them
      const withIndex = { ...o, 7: "seven", tail: [o] };
      const out = rt(withIndex);
      expect(Object.keys(out)).toEqual(Object.keys(withIndex));
      expect(out).toEqual(withIndex);
    }
  });

  it("a polluted Object.prototype adds nothing to the encoded objects; null-prototype objects travel too", () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = "yes";
    try {
      const out = rt({ a: 1, nested: { b: 2 } });
      expect(Object.keys(out)).toEqual(["a", "nested"]);
      expect(Object.hasOwn(out.nested, "polluted")).toBe(false);
    } finally {
      delete proto.polluted;
    }
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { x: 1, y: "two" });
    expect(rt(bare)).toEqual({ x: 1, y: "two" });
    expect(Object.keys(rt({ a: 1 }))).toEqual(["a"]);
  });

  it("back-references stay right across many values and past the first 16 objects; nothing leaks from one value into the next", () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ i }));
    const value = { many, again: many.slice().reverse() };
    for (let round = 0; round < 3; round++) {
      const out = rt(value);
      expect(out.again[0]).toBe(out.many[39]);
      expect(out.again[39]).toBe(out.many[0]);
      // a value with fewer objects right after: its back-references point only at its own
      const small = rt({ p: { q: 1 }, r: [1] });
      expect(small).toEqual({ p: { q: 1 }, r: [1] });
    }
    // a back-reference past what the value decoded is malformed, even right after a large value
    rt(value);
    // an array of one element, a back-reference (tag 18) to object 5
    expect(() => deserialize(Uint8Array.from([serialize([1])[0], 1, 18, 5]))).toThrow(/bad back-reference/);
  });

  it("short strings repeat as the same decoded text (a cache of short ASCII strings), and others decode in full", () => {
    const values = ["put", "get", "put", "ünïcode", "x".repeat(24), "y".repeat(25), "", "put"];
    expect(rt(values)).toEqual(values);
  });
});

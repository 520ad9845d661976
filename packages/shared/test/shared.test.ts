import { describe, expect, it } from "vitest";
import { InvalidStateError, Lock, nativeAvailable, RLock } from "@ipc/core";
import { Process } from "@ipc/process";
import { RawArray, RawValue, SharedArray, SharedStruct, Value } from "@ipc/shared";

const targets = new URL("./fixtures/targets.mjs", import.meta.url).href;
const contexts = ["thread", "process"] as const;
/** Without the addon a child process reaches the memory through the broker (IPC_NATIVE=0 run). */
const mapsInChildProcess = nativeAvailable();

async function run(target: string, args: unknown[], context: "thread" | "process"): Promise<number | null> {
  const p = new Process({ module: targets, target, args, context });
  p.start();
  await p.join({ timeout: 60_000 });
  return p.exitCode;
}

describe("Value and RawValue in one thread", () => {
  it("every typecode round-trips its values; 64-bit codes are bigints, 'c' and 'u' characters", () => {
    const cases: [string, unknown, unknown][] = [
      ["b", -5, 127],
      ["B", 200, 255],
      ["h", -232, 234],
      ["H", 65535, 1],
      ["i", 4343, 24234],
      ["I", 4_000_000_000, 1],
      ["l", -(2n ** 40n), 5n],
      ["L", 2n ** 63n, 1n],
      ["q", 2n ** 33n, 2n ** 34n],
      ["Q", 2n ** 64n - 1n, 0n],
      ["f", 0.5, -4.25],
      ["d", 3.625, -4.25],
      ["c", "x", "y"],
      ["u", "é", "😀"],
      ["int32", 7, 8],
      ["float64", 1.5, 2.5],
      ["uint64", 9n, 10n],
    ];
    for (const [code, first, next] of cases) {
      const v = new Value(code as never, first);
      expect(v.value).toBe(first);
      v.value = next;
      expect(v.value).toBe(next);
      const raw = RawValue(code as never, first as never);
      expect(raw.value).toBe(first);
    }
    // integers are stored modulo 2^bits, as ctypes does
    const b = new Value("b", 0);
    b.value = 200;
    expect(b.value).toBe(-56);
    // defaults: zero, or NUL
    expect(new Value("d").value).toBe(0);
    expect(new Value("q").value).toBe(0n);
    expect(new Value("c").value).toBe("\0");
    // a number given for a 64-bit code is taken as a bigint
    expect(new Value<bigint>("q", 5 as never).value).toBe(5n);
  });

  it("bad typecodes and values of the wrong type are TypeErrors (VAL-04)", () => {
    expect(() => new Value("x" as never, 0)).toThrow(TypeError);
    expect(() => new Value("x" as never, 0)).toThrow(/bad typecode/);
    expect(() => RawValue("x" as never)).toThrow(/bad typecode/);
    expect(() => new Value("i", 1.5)).toThrow(TypeError);
    expect(() => new Value("i", "1" as never)).toThrow(/an integer is required/);
    expect(() => new Value("q", 1.5 as never)).toThrow(/bigint/);
    expect(() => new Value("c", "xy")).toThrow(TypeError);
    expect(() => new Value("c", "€")).toThrow(TypeError);
    const v = new Value("d", 1);
    expect(() => {
      v.value = "2" as never;
    }).toThrow(TypeError);
    expect(v.value).toBe(1);
  });

  it("locks: a new RLock by default, a given Lock or RLock, none with lock: false (VAL-03)", async () => {
    expect(new Value("i", 5).getLock()).toBeInstanceOf(RLock);
    const lock = new Lock();
    const v = new Value("i", 5, { lock });
    expect(v.getLock()).toBe(lock);
    const r = new RLock();
    expect(new Value("i", 5, { lock: r }).getLock()).toBe(r);
    expect(() => new Value("i", 5, { lock: false }).getLock()).toThrow(InvalidStateError);
    expect(() => RawValue("i", 5).getLock()).toThrow(InvalidStateError);
    expect(() => new Value("i", 5, { lock: "navalue" as never })).toThrow(TypeError);
    // withLock holds the lock around the function; with an RLock the accesses inside re-enter it
    const counter = new Value("i", 0);
    await counter.withLock((c) => {
      c.value += 1;
      expect(c.getLock().acquireSync({ timeout: 0 })).toBe(true); // re-entered
      c.getLock().release();
    });
    expect(counter.withLockSync((c) => (c.value += 1))).toBe(2);
    // with a plain Lock the lock is held while fn runs, and the value's own accesses inside it do
    // not wait for it (in Python they would wait for themselves forever)
    await v.withLock(() => expect(lock.acquireSync({ timeout: 0 })).toBe(false));
    expect(v.withLockSync((c) => (c.value += 1))).toBe(6);
    await v.withLock((c) => void (c.value *= 2));
    expect(v.value).toBe(12);
    expect(lock.locked()).toBe(false);
    await expect(new Value("i", 0, { lock: false }).withLock(() => 1)).rejects.toThrow(InvalidStateError);
  });
});

describe("SharedArray and RawArray in one thread", () => {
  it("indexing, slices and slice assignment as Python's Array (ARR-01 parent side)", () => {
    const seq = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];
    const arr = new SharedArray("i", seq);
    expect(arr.length).toBe(10);
    expect(arr.get(3)).toBe(821);
    expect(arr.get(-1)).toBe(831);
    expect(arr.slice(2, 7)).toEqual([934, 821, 150, 233, 548]);
    expect(arr.slice(-3)).toEqual([982, 714, 831]);
    arr.setAll([1, 2, 3, 4], 4);
    expect(arr.toArray()).toEqual([680, 626, 934, 821, 1, 2, 3, 4, 714, 831]);
    expect([...arr]).toEqual(arr.toArray());
    expect(() => arr.get(10)).toThrow(RangeError);
    expect(() => arr.get(-11)).toThrow(RangeError);
    expect(() => arr.set(0, 1.5)).toThrow(TypeError);
    expect(() => arr.get(1.5)).toThrow(TypeError);
    expect(() => arr.setAll([1, 2, 3], 8)).toThrow(RangeError);
    expect(arr.raw).toBeInstanceOf(Int32Array);
    expect(arr.raw.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("from a size: zeroed every time (ARR-02); bad typecodes (ARR-05); 'c' and 'u' text (.value)", () => {
    for (let k = 0; k < 3; k++) {
      const a = new SharedArray("i", 10);
      expect(a.toArray()).toEqual(Array(10).fill(0));
      a.setAll(Array.from({ length: 10 }, (_, i) => i));
      expect(a.toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    expect(() => new SharedArray("x" as never, [])).toThrow(/bad typecode/);
    expect(() => RawArray("x" as never, [])).toThrow(/bad typecode/);
    const s = new SharedArray<string>("c", 20);
    s.value = "hello";
    expect(s.value).toBe("hello");
    s.value = s.value + s.value;
    expect(s.value).toBe("hellohello");
    expect(() => (s.value = "x".repeat(21))).toThrow(RangeError);
    const u = new SharedArray<string>("u", "añ😀");
    expect(u.length).toBe(3);
    expect(u.value).toBe("añ😀");
    expect(() => new SharedArray("i", 3).value).toThrow(TypeError);
    const big = new SharedArray<bigint>("Q", [1n, 2n ** 64n - 1n]);
    expect(big.toArray()).toEqual([1n, 2n ** 64n - 1n]);
    // a large array is a block of its own
    const d = new SharedArray("d", 100_000);
    d.set(99_999, 2.5);
    expect(d.get(-1)).toBe(2.5);
    const raw = RawArray("d", [1, 2, 3]);
    expect(raw).toBeInstanceOf(Float64Array);
    expect([...raw]).toEqual([1, 2, 3]);
    expect(raw.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe("SharedStruct in one thread", () => {
  it("typed fields in C layout, a lock like Value's, toObject and raw", async () => {
    const s = new SharedStruct({ flags: "B", count: "q", mean: "d", small: "h" }, { count: 3n, mean: 0.5 });
    expect(s.count).toBe(3n);
    expect(s.mean).toBe(0.5);
    expect(s.flags).toBe(0);
    s.count += 1n;
    s.flags = 7;
    expect(s.toObject()).toEqual({ flags: 7, count: 4n, mean: 0.5, small: 0 });
    // B at 0, q aligned to 8, d at 16, h at 24; padded to 32
    expect(s.layout.map((f) => [f.name, f.offset])).toEqual([
      ["flags", 0],
      ["count", 8],
      ["mean", 16],
      ["small", 24],
    ]);
    expect(s.raw.byteLength).toBe(32);
    expect(s.raw.getBigInt64(8, true)).toBe(4n);
    expect(s.getLock()).toBeInstanceOf(RLock);
    await s.withLock((t) => {
      t.mean = t.mean * 2;
    });
    expect(s.mean).toBe(1);
    expect(() => (s.count = 1.5 as never)).toThrow(TypeError);
    expect(() => new SharedStruct({ x: "z" as never })).toThrow(/bad typecode/);
    expect(() => new SharedStruct({ toObject: "i" })).toThrow(TypeError);
    // names of members, inherited ones too, would shadow what the object itself reads
    for (const name of ["words", "remote", "buffer", "byteOffset", "hasOwnProperty", "getLock"]) {
      expect(() => new SharedStruct({ [name]: "d" })).toThrow(/cannot be named/);
    }
    expect(new SharedStruct({ wordCount: "d", bytesDone: "d" }).toObject()).toEqual({ wordCount: 0, bytesDone: 0 });
    expect(() => new SharedStruct({})).toThrow(TypeError);
    expect(() => new SharedStruct({ x: "i" }, { y: 1 } as never)).toThrow(/no field "y"/);
    expect(() => new SharedStruct({ x: "i" }, {}, { lock: false }).getLock()).toThrow(InvalidStateError);
  });
});

describe.each(contexts)("shared data handed to a child (%s)", (context) => {
  it("a child sets each Value; the parent reads the new values (VAL-01, VAL-02)", async () => {
    const codes: [string, unknown, unknown][] = [
      ["i", 4343, 24234],
      ["d", 3.625, -4.25],
      ["h", -232, 234],
      ["q", 2n ** 33n, 2n ** 34n],
      ["c", "x", "y"],
    ];
    for (const make of [(c: string, v: unknown) => new Value(c as never, v), (c: string, v: unknown) => RawValue(c as never, v as never)]) {
      const values = codes.map(([c, v]) => make(c, v));
      expect(await run("setValues", [values, codes.map(([, , n]) => n)], context)).toBe(0);
      expect(values.map((v) => v.value)).toEqual(codes.map(([, , n]) => n));
    }
  });

  it("a child's running sum under the array's lock is the parent's (ARR-01)", async () => {
    const arr = new SharedArray("i", [680, 626, 934, 821, 150, 233, 548, 982, 714, 831]);
    arr.setAll([1, 2, 3, 4], 4); // Python's arr[4:8] = [1, 2, 3, 4] first
    expect(await run("runningSum", [arr], context)).toBe(0);
    expect(arr.toArray()).toEqual([680, 1306, 2240, 3061, 3062, 3064, 3067, 3071, 3785, 4616]);
  });

  it("sharedctypes: a child doubles ints, doubles, bigints, a struct, an array and a string (ARR-07)", async () => {
    const x = new Value("i", 7);
    const y = new Value("d", 1 / 3);
    const z = new Value<bigint>("q", 2n ** 33n);
    const foo = new SharedStruct({ x: "i", y: "d", z: "q" }, { x: 3, y: 2, z: 0n });
    const arr = new SharedArray("d", Array.from({ length: 10 }, (_, i) => i));
    const string = new SharedArray<string>("c", 20);
    string.value = "hello";
    expect(await run("doubleAll", [x, y, z, foo, arr, string], context)).toBe(0);
    expect(x.value).toBe(14);
    expect(y.value).toBeCloseTo(2 / 3);
    expect(z.value).toBe(2n ** 34n);
    expect(foo.x).toBe(6);
    expect(foo.y).toBeCloseTo(4);
    expect(arr.toArray()).toEqual(Array.from({ length: 10 }, (_, i) => 2 * i));
    expect(string.value).toBe("hellohello");
  });

  it("two children and the parent increment one Value under its lock: no update is lost", async () => {
    const counter = new Value("i", 0);
    const n = context === "process" && !mapsInChildProcess ? 50 : 2000;
    const kids = [
      new Process({ module: targets, target: "addMany", args: [counter, n], context }),
      new Process({ module: targets, target: "addManySync", args: [counter, n], context }),
    ];
    for (const k of kids) k.start();
    for (let i = 0; i < n; i++) await counter.withLock((c) => void (c.value += 1));
    for (const k of kids) await k.join({ timeout: 60_000 });
    expect(kids.map((k) => k.exitCode)).toEqual([0, 0]);
    expect(counter.value).toBe(3 * n);
  }, 120_000);

  it("in the child: the same values, typecodes and lock type; raw is the memory itself where it is mapped", async () => {
    const v = new Value("d", 2.5);
    const arr = new SharedArray("i", [1, 2, 3]);
    const s = new SharedStruct({ a: "i", b: "d" }, { a: 1, b: 0.25 });
    const out = new SharedArray<string>("u", 400);
    expect(await run("describe", [v, arr, s, out], context)).toBe(0);
    expect(JSON.parse(out.value)).toEqual({ v: 2.5, typecode: "d", arr: [1, 2, 3], len: 3, struct: { a: 1, b: 0.25 }, locked: "RLock" });
  });
});

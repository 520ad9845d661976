import { describe, expect, it } from "vitest";
import { Dict, List, MessageTooLargeError } from "@ipc/redis";
import { closeAfterEach, fresh, startChild, url } from "./helpers.js";

const track = closeAfterEach();

describe("Dict on Redis", () => {
  it("keys keep their type and order: d[1] = '1', d['2'] = 2, d[0.25] = null (Python's example)", async () => {
    const d = track(new Dict<unknown, unknown>({ connection: url(), name: fresh("d") }));
    await d.set(1, "1");
    await d.set("2", 2);
    await d.set(0.25, null);
    await d.set(65, "int");
    await d.set("65", "str");
    expect(await d.items()).toEqual([[1, "1"], ["2", 2], [0.25, null], [65, "int"], ["65", "str"]]);
    expect(await d.get(65)).toBe("int");
    expect(await d.get("65")).toBe("str");
    expect(await d.get(0.25)).toBe(null);
    expect(await d.get("missing", "fallback")).toBe("fallback");
    expect(await d.size()).toBe(5);
    expect(await d.keys()).toEqual([1, "2", 0.25, 65, "65"]);
    expect(await d.values()).toEqual(["1", 2, null, "int", "str"]);
    await d.set(1, "one");
    expect((await d.keys())[0]).toBe(1);
  });

  it("has, delete, pop, popitem, setdefault, update, clear, copy, with Python's KeyErrors", async () => {
    const d = track(new Dict<string, number>({ connection: url(), name: fresh("d") }));
    await d.update({ a: 1, b: 2 });
    await d.update(new Map([["c", 3]]));
    await d.update([["d", 4]]);
    expect(await d.has("a")).toBe(true);
    expect(await d.delete("a")).toBe(true);
    await expect(d.delete("a")).rejects.toThrow(/^KeyError: a/);
    expect(await d.pop("b")).toBe(2);
    expect(await d.pop("b", -1)).toBe(-1);
    await expect(d.pop("b")).rejects.toThrow(RangeError);
    expect(await d.popitem()).toEqual(["d", 4]);
    expect(await d.setdefault("c", 9)).toBe(3);
    expect(await d.setdefault("e", 5)).toBe(5);
    const copy = await d.copy();
    expect(copy).toEqual(new Map([["c", 3], ["e", 5]]));
    await d.clear();
    expect(await d.size()).toBe(0);
    await expect(d.popitem()).rejects.toThrow(/dictionary is empty/);
    expect(copy.size).toBe(2);
  });

  it("five processes each write i + 100 under a Lock (Python's manager example)", async () => {
    const name = fresh("d");
    const kids = [0, 1, 2, 3, 4].map((i) => startChild("dict-write", { url: url(), name, i }));
    for (const k of kids) expect(await k.exited()).toBe(0);
    const d = track(new Dict<number, number>({ connection: url(), name }));
    expect((await d.values()).sort((a, b) => a - b)).toEqual([100, 101, 102, 103, 104]);
  });

  it("a value larger than maxValueBytes is refused", async () => {
    const d = track(new Dict({ connection: url(), name: fresh("d"), maxValueBytes: 100 }));
    await expect(d.set("k", "x".repeat(200))).rejects.toBeInstanceOf(MessageTooLargeError);
    expect(await d.size()).toBe(0);
  });
});

describe("List on Redis", () => {
  it("append, extend, insert, get, set, pop, remove, index, count, reverse, sort, slice, length, toArray", async () => {
    const l = track(new List<number>({ connection: url(), name: fresh("l") }));
    await l.extend([3, 1, 2]);
    await l.append(5);
    await l.insert(0, 0);
    await l.insert(-1, 4);
    await l.insert(100, 9);
    expect(await l.toArray()).toEqual([0, 3, 1, 2, 4, 5, 9]);
    expect(await l.get(-1)).toBe(9);
    await expect(l.get(7)).rejects.toThrow(/IndexError/);
    await l.set(0, 10);
    await expect(l.set(70, 1)).rejects.toThrow(/IndexError/);
    expect(await l.pop()).toBe(9);
    expect(await l.pop(0)).toBe(10);
    expect(await l.pop(1)).toBe(1);
    expect(await l.toArray()).toEqual([3, 2, 4, 5]);
    await l.append(2);
    expect(await l.count(2)).toBe(2);
    expect(await l.index(2)).toBe(1);
    await l.remove(2);
    await expect(l.remove(42)).rejects.toThrow(/ValueError/);
    await expect(l.index(42)).rejects.toThrow(/ValueError/);
    expect(await l.toArray()).toEqual([3, 4, 5, 2]);
    await l.reverse();
    expect(await l.toArray()).toEqual([2, 5, 4, 3]);
    await l.sort();
    expect(await l.toArray()).toEqual([2, 3, 4, 5]);
    await l.sort({ reverse: true });
    expect(await l.toArray()).toEqual([5, 4, 3, 2]);
    expect(await l.slice(1, 3)).toEqual([4, 3]);
    expect(await l.slice(-2)).toEqual([3, 2]);
    expect(await l.slice(0, -1)).toEqual([5, 4, 3]);
    expect(await l.slice(3, 1)).toEqual([]);
    expect(await l.length()).toBe(4);
    await expect(l.get(1.5)).rejects.toThrow(TypeError);
  });

  it("reverse and the manager's list example: values of any type survive", async () => {
    const l = track(new List<unknown>({ connection: url(), name: fresh("l") }));
    await l.extend(["a", 1, { b: [2] }, null]);
    await l.reverse();
    expect(await l.toArray()).toEqual([null, { b: [2] }, 1, "a"]);
    expect(await l.index({ b: [2] })).toBe(1);
  });
});

describe("Manager on Redis", () => {
  it("makes dicts, lists, queues, locks, semaphores and events as a SyncManager does; shutdown removes what it named", async () => {
    const { Manager } = await import("@ipc/redis");
    const { Redis } = await import("ioredis");
    const m = await Manager({ connection: url() });
    const d = await m.dict<string, number>({ a: 1 });
    await d.set("b", 2);
    const l = await m.list([1, 2]);
    await l.append(3);
    const q = await m.Queue<string>({ maxSize: 2 });
    await q.put("x");
    const lock = await m.Lock();
    const sem = await m.Semaphore(2);
    const ev = await m.Event();
    expect(await d.items()).toEqual([["a", 1], ["b", 2]]);
    expect(await l.toArray()).toEqual([1, 2, 3]);
    expect(await q.get()).toBe("x");
    expect(await lock.acquire()).toBe(true);
    expect(await sem.getValue()).toBe(2);
    await ev.set();
    const kept = await m.dict({ stays: true }, { name: fresh("named") });
    const raw = new Redis(url());
    try {
      expect(await raw.exists(`ipc:{${d.name}}:h`)).toBe(1);
      await m.shutdown();
      await expect(d.get("a")).rejects.toThrow(/closed/);
      for (const x of [d, l, q, lock, sem, ev]) expect((await raw.keys(`ipc:{${x.name}}:*`)).length).toBe(0);
      expect(await raw.exists(`ipc:{${kept.name}}:h`)).toBe(1);
    } finally {
      raw.disconnect();
    }
  });
});

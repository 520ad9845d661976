import { afterEach, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { Lock, serialize } from "@ipc/core";
import { timed } from "@ipc/test-utils/timed";
import {
  ClosedError,
  EmptyError,
  FullError,
  InvalidStateError,
  JoinableQueue,
  MessageTooLargeError,
  Queue,
  SerializationError,
  ShutDownError,
  SimpleQueue,
} from "@ipc/redis";
import { fresh, startChild, url } from "./helpers.js";

const open: { close(): Promise<void> }[] = [];
function q<T>(opts: Partial<ConstructorParameters<typeof Queue>[0]> = {}): Queue<T> {
  const x = new Queue<T>({ connection: url(), name: fresh("q"), ...opts });
  open.push(x);
  return x;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

describe("Queue on Redis", () => {
  it("is FIFO and keeps types: Map, Date, bigint, Uint8Array, nested objects", async () => {
    const a = q();
    const b = q({ name: a.name });
    const items = [1, "two", { three: [3] }, new Map<unknown, unknown>([[1, "x"], ["1", "y"]]), new Date(5), 7n, new Uint8Array([1, 2, 3]), null];
    for (const it of items) await a.put(it);
    expect(await b.qsize()).toBe(items.length);
    expect(await b.empty()).toBe(false);
    for (const it of items) expect(await b.get()).toEqual(it);
    expect(await b.empty()).toBe(true);
  });

  it("getNowait and a timed get on an empty queue raise EmptyError in time", async () => {
    const a = q();
    await expect(a.getNowait()).rejects.toBeInstanceOf(EmptyError);
    await expect(timed(() => a.get({ timeout: 200 }), 200, 1500)).rejects.toBeInstanceOf(EmptyError);
    await expect(a.get({ timeout: -5 })).rejects.toBeInstanceOf(EmptyError);
  });

  it("a blocked get wakes when another client puts", async () => {
    const a = q<number>();
    const b = q<number>({ name: a.name });
    const got = a.get({ timeout: 10_000 });
    await b.put(42);
    expect(await timed(got, 0, 2000)).toBe(42);
  });

  it("1,000 concurrent gets on one object each get one item", async () => {
    const a = q<number>();
    const b = q<number>({ name: a.name });
    const gets = Array.from({ length: 1000 }, () => a.get({ timeout: 20_000 }));
    await Promise.all(Array.from({ length: 1000 }, (_, i) => b.put(i)));
    expect((await Promise.all(gets)).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("maxSize: putNowait raises FullError, a timed put raises it in time, a get makes room for a waiting put", async () => {
    const a = q<number>({ maxSize: 2 });
    await a.put(1);
    await a.putNowait(2);
    expect(await a.full()).toBe(true);
    expect(await a.maxSize()).toBe(2);
    await expect(a.putNowait(3)).rejects.toBeInstanceOf(FullError);
    await expect(timed(() => a.put(3, { timeout: 200 }), 200, 1500)).rejects.toBeInstanceOf(FullError);
    const b = q<number>({ name: a.name });
    const waiting = a.put(3, { timeout: 10_000 });
    expect(await b.get()).toBe(1);
    await timed(waiting, 0, 3000);
    expect([await b.get(), await b.get()]).toEqual([2, 3]);
  });

  it("an aborted get rejects with the reason at once, and the next item goes to the next get", async () => {
    const a = q<string>();
    const ac = new AbortController();
    const got = a.get({ signal: ac.signal });
    const reason = new Error("stop");
    setImmediate(() => ac.abort(reason));
    await expect(timed(got, 0, 1000)).rejects.toBe(reason);
    const b = q<string>({ name: a.name });
    await b.put("x");
    expect(await a.get({ timeout: 5000 })).toBe("x");
    await expect(a.get({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it("an aborted put waiting for room rejects, and puts nothing", async () => {
    const a = q<number>({ maxSize: 1 });
    await a.put(1);
    const ac = new AbortController();
    const p = a.put(2, { signal: ac.signal });
    setImmediate(() => ac.abort(new Error("no")));
    await expect(timed(p, 0, 1000)).rejects.toThrow("no");
    expect(await a.qsize()).toBe(1);
  });

  it("shutdown: puts raise ShutDownError, gets drain then raise it, and a get blocked in another process wakes", async () => {
    const a = q<number>();
    const child = startChild("blocked-get", { url: url(), name: a.name });
    await child.waitFor(/^waiting$/);
    await a.put(1);
    await child.waitFor(/^got 1$/);
    const child2 = startChild("blocked-get", { url: url(), name: a.name });
    await child2.waitFor(/^waiting$/);
    await a.put(2);
    await a.shutdown();
    await expect(a.put(3)).rejects.toBeInstanceOf(ShutDownError);
    const left: number[] = [];
    // child2 took 2 or we take it; then everyone sees ShutDownError
    await Promise.race([child2.waitFor(/^got 2$/), a.get({ timeout: 5000 }).then((v) => left.push(v))]);
    await expect(a.get({ timeout: 5000 })).rejects.toBeInstanceOf(ShutDownError);
    expect(await child.exited()).toBe(0);
    expect(await child2.exited()).toBe(0);
  });

  it("a get blocked in another process at shutdown wakes with ShutDownError at once", async () => {
    const a = q<number>();
    const child = startChild("blocked-get", { url: url(), name: a.name, timeout: 60_000 });
    await child.waitFor(/^waiting$/);
    // whether its get is blocked yet or not, it ends within one blocking slice (2 s) at most
    const t = performance.now();
    await a.shutdown();
    await child.waitFor(/^error ShutDownError$/, 5000);
    expect(performance.now() - t).toBeLessThan(4000);
  });

  it("shutdown({ immediate }) discards the items and counts them done for join", async () => {
    const a = new JoinableQueue<number>({ connection: url(), name: fresh("jq") });
    open.push(a);
    for (let i = 0; i < 5; i++) await a.put(i);
    expect(await a.unfinishedTasks()).toBe(5);
    await a.shutdown({ immediate: true });
    await expect(a.get()).rejects.toBeInstanceOf(ShutDownError);
    expect(await a.unfinishedTasks()).toBe(0);
    expect(await a.join({ timeout: 1000 })).toBe(true);
  });

  it("for await yields every item and ends at shutdown", async () => {
    const a = q<number>();
    for (let i = 0; i < 10; i++) await a.put(i);
    await a.shutdown();
    const seen: number[] = [];
    for await (const x of a) seen.push(x);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("bad input: an item larger than maxValueBytes, a function, bad options, a bad name", async () => {
    const a = q({ maxValueBytes: 1024 });
    await expect(a.put(new Uint8Array(2048))).rejects.toBeInstanceOf(MessageTooLargeError);
    await expect(a.put(() => 1)).rejects.toBeInstanceOf(SerializationError);
    expect(() => new Queue({ connection: url(), name: "" })).toThrow(TypeError);
    expect(() => new Queue({ connection: url(), name: "a{b}" })).toThrow(TypeError);
    expect(() => new Queue({ connection: url(), name: "x", maxSize: -1 })).toThrow(RangeError);
    await expect(a.get({ timeout: "soon" as never })).rejects.toThrow(TypeError);
    expect(await a.qsize()).toBe(0);
  });

  it("bytes in Redis that are not the codec's, or that name shared memory, are refused and dropped", async () => {
    const a = q();
    const c = new Redis(url());
    try {
      await c.lpush(`ipc:{${a.name}}:items`, Buffer.from([0xff, 0x00, 0x13]));
      await c.lpush(`ipc:{${a.name}}:items`, Buffer.from(serialize({ lock: new Lock() })));
      await c.lpush(`ipc:{${a.name}}:items`, Buffer.from(serialize("fine")));
      await expect(a.get()).rejects.toBeInstanceOf(SerializationError);
      await expect(a.get()).rejects.toBeInstanceOf(SerializationError);
      expect(await a.get()).toBe("fine");
      await a.getNowait().catch(() => {});
      expect(await c.llen(`ipc:{${a.name}}:items`)).toBe(0);
    } finally {
      c.disconnect();
    }
  });

  it("close rejects pending gets with ClosedError and later calls too", async () => {
    const a = q();
    const got = a.get();
    await a.close();
    await expect(got).rejects.toBeInstanceOf(ClosedError);
    await expect(a.put(1)).rejects.toBeInstanceOf(ClosedError);
    expect(a.closed).toBe(true);
  });

  it("SimpleQueue is an unbounded Queue", async () => {
    const s = new SimpleQueue<number>({ connection: url(), name: fresh("sq") });
    open.push(s);
    await s.put(1);
    expect(await s.get()).toBe(1);
    expect(await s.empty()).toBe(true);
    expect(String(s)).toMatch(/^SimpleQueue\(/);
  });
});

describe("JoinableQueue on Redis", () => {
  it("join waits until consumers in two other processes mark every task done", async () => {
    const name = fresh("jq");
    const a = new JoinableQueue<number>({ connection: url(), name });
    open.push(a);
    for (let i = 0; i < 50; i++) await a.put(i);
    expect(await a.join({ timeout: 50 })).toBe(false);
    const kids = [0, 1].map(() => startChild("consume", { url: url(), name, joinable: true }));
    expect(await a.join({ timeout: 20_000 })).toBe(true);
    await a.shutdown();
    const seen = new Set<number>();
    for (const k of kids) {
      expect(await k.exited()).toBe(0);
      for (const l of k.lines.filter((x) => x.startsWith("item "))) seen.add(JSON.parse(l.slice(5)) as number);
    }
    expect(seen.size).toBe(50);
  });

  it("taskDone more often than items were put raises InvalidStateError", async () => {
    const a = new JoinableQueue<number>({ connection: url(), name: fresh("jq") });
    open.push(a);
    await a.put(1);
    await a.get();
    await a.taskDone();
    await expect(a.taskDone()).rejects.toBeInstanceOf(InvalidStateError);
  });

  it("an aborted join rejects with the reason", async () => {
    const a = new JoinableQueue<number>({ connection: url(), name: fresh("jq") });
    open.push(a);
    await a.put(1);
    await expect(timed(a.join({ signal: AbortSignal.timeout(100) }), 90, 1500)).rejects.toThrow();
  });

  it("close gives back what was taken and not marked done", async () => {
    const name = fresh("jq");
    const a = new JoinableQueue<number>({ connection: url(), name });
    const b = new JoinableQueue<number>({ connection: url(), name });
    open.push(b);
    await a.put(7);
    expect(await a.get()).toBe(7);
    await a.close();
    expect(await b.get({ timeout: 1000 })).toBe(7);
    await b.taskDone();
    expect(await b.join({ timeout: 1000 })).toBe(true);
  });
});

describe("delivery when a consumer dies", () => {
  it("an item held by a consumer killed with SIGKILL goes to a live consumer, once", async () => {
    const name = fresh("q");
    const visibilityTimeout = 600;
    const a = q<{ n: number }>({ name, visibilityTimeout });
    const holder = startChild("hold", { url: url(), name, visibilityTimeout });
    await a.put({ n: 1 });
    await holder.waitFor(/^got /);
    holder.proc.kill("SIGKILL");
    await holder.exited();
    // two live consumers: exactly one gets it, after the lease has run out
    const b = q<{ n: number }>({ name, visibilityTimeout });
    const got = await Promise.allSettled([a.get({ timeout: 10_000 }), b.get({ timeout: 3000 })]);
    const values = got.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<{ n: number }>).value);
    expect(values).toEqual([{ n: 1 }]);
    expect(got.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(EmptyError)]);
  });

  it("an item in a live consumer's list that the consumer never received (a reply lost in a reconnect) goes back", async () => {
    const name = fresh("q");
    const a = q<string>({ name, visibilityTimeout: 300 });
    await expect(a.getNowait()).rejects.toBeInstanceOf(EmptyError); // registers a's lease and list
    const c = new Redis(url());
    try {
      const [consumer] = await c.smembers(`ipc:{${name}}:consumers`);
      expect(consumer).toBeDefined();
      const proc = `ipc:{${name}}:proc:${consumer}`;
      // what a BLMOVE whose reply was lost leaves behind
      await c.lpush(proc!, Buffer.from(serialize("orphan")));
      const b = q<string>({ name, visibilityTimeout: 300 });
      expect(await timed(() => b.get({ timeout: 5000 }), 0, 3000)).toBe("orphan");
    } finally {
      c.disconnect();
    }
  });

  it("a plain Queue acknowledges an item at the consumer's next get: nothing comes back after it", async () => {
    const name = fresh("q");
    const a = q<number>({ name, visibilityTimeout: 300 });
    const b = q<number>({ name, visibilityTimeout: 300 });
    await a.put(1);
    await a.put(2);
    expect(await b.get()).toBe(1);
    expect(await b.get()).toBe(2);
    await b.close();
    expect(await a.reap()).toBe(0);
    await expect(a.get({ timeout: 700 })).rejects.toBeInstanceOf(EmptyError);
  });
});

import { describe, expect, it } from "vitest";
import { BrokenBarrierError, EmptyError, FullError, InvalidStateError, ShutDownError, TimeoutError } from "@ipc/core";
import { Process } from "@ipc/process";
import { ConditionProxy, LockProxy, Manager, QueueProxy } from "@ipc/manager";

const targets = new URL("./fixtures/targets.mjs", import.meta.url).href;
const contexts = ["thread", "process"] as const;

async function run(target: string, args: unknown[], context: "thread" | "process"): Promise<Process> {
  const p = new Process({ module: targets, target, args, context });
  p.start();
  return p;
}

async function joined(p: Process): Promise<void> {
  await p.join({ timeout: 30_000 });
  expect(p.exitCode).toBe(0);
}

describe("a manager's Queue, JoinableQueue, Value and Array", () => {
  it("FIFO, bounds, timeouts and the nowait forms, with queue.Empty/Full as EmptyError/FullError", async () => {
    await using m = await Manager({ context: "thread" });
    const q = await m.Queue<number>(2);
    expect(q).toBeInstanceOf(QueueProxy);
    expect(await q.empty()).toBe(true);
    await q.put(1);
    await q.putNowait(2);
    expect(await q.full()).toBe(true);
    expect(await q.qsize()).toBe(2);
    await expect(q.put(3, { timeout: 30 })).rejects.toThrow(FullError);
    await expect(q.putNowait(3)).rejects.toThrow(FullError);
    expect(await q.get()).toBe(1);
    expect(await q.getNowait()).toBe(2);
    await expect(q.get({ timeout: 30 })).rejects.toThrow(EmptyError);
    await expect(q.getNowait()).rejects.toThrow(EmptyError);
    await expect(q.get({ timeout: -1 })).rejects.toThrow(EmptyError); // negative: 0, as every @ipc wait
    await expect(q.get({ timeout: "soon" as never })).rejects.toThrow(TypeError);
    await expect(m.Queue(-1)).rejects.toThrow(TypeError);
  });

  it("an aborted get rejects at once and takes nothing: the next item goes to the next get", async () => {
    await using m = await Manager({ context: "thread" });
    const q = await m.Queue<string>();
    const ac = new AbortController();
    const pending = q.get({ signal: ac.signal });
    ac.abort(new Error("changed my mind"));
    await expect(pending).rejects.toThrow("changed my mind");
    await q.put("kept");
    expect(await q.get({ timeout: 5000 })).toBe("kept");
    const already = new AbortController();
    already.abort(new Error("before"));
    await expect(q.get({ signal: already.signal })).rejects.toThrow("before");
  });

  it("taskDone/join, too many taskDone, and shutdown: puts fail, gets drain, for await ends", async () => {
    await using m = await Manager({ context: "thread" });
    const q = await m.JoinableQueue<number>();
    await q.put(1);
    await q.put(2);
    expect(await q.join({ timeout: 20 })).toBe(false);
    await q.get();
    await q.taskDone();
    await q.get();
    await q.taskDone();
    expect(await q.join({ timeout: 5000 })).toBe(true);
    await expect(q.taskDone()).rejects.toThrow(InvalidStateError);
    await q.put(3);
    await q.shutdown();
    await expect(q.put(4)).rejects.toThrow(ShutDownError);
    const seen: number[] = [];
    for await (const x of q) seen.push(x);
    expect(seen).toEqual([3]);
    await expect(q.get()).rejects.toThrow(ShutDownError);
  });

  it.each(contexts)("a %s child produces into a manager queue; the parent reads everything with for await", async (context) => {
    await using m = await Manager({ context: "thread" });
    const q = await m.Queue<{ i: number }>(10);
    const p = await run("produce", [q, 200], context);
    const got: number[] = [];
    for await (const item of q) got.push(item.i);
    await joined(p);
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
  }, 60_000);

  it("Value and Array: get, set, slices, Python's IndexError as RangeError", async () => {
    await using m = await Manager({ context: "thread" });
    const v = await m.Value("d", 1.5);
    expect(await v.get()).toBe(1.5);
    await v.set(3.1415927);
    expect(await v.get()).toBe(3.1415927);
    expect(await v.typecode()).toBe("d");
    const a = await m.Array<number>("i", [0, 1, 2, 3]);
    await a.set(-1, 30);
    expect(await a.get(3)).toBe(30);
    expect(await a.toArray()).toEqual([0, 1, 2, 30]);
    expect(await a.slice(1, 3)).toEqual([1, 2]);
    await a.setAll([7, 8], 1);
    expect(await a.toArray()).toEqual([0, 7, 8, 30]);
    expect(await a.length()).toBe(4);
    await expect(a.get(4)).rejects.toThrow(RangeError);
    await expect(a.setAll([1, 2, 3], 2)).rejects.toThrow(RangeError);
    expect(await (await m.Array("q", 2)).toArray()).toEqual([0n, 0n]);
  });
});

describe("a manager's locks, semaphores and conditions", () => {
  it("Lock and RLock: holders, timeouts, re-entry, and Python's release errors", async () => {
    await using m = await Manager({ context: "thread" });
    const lock = await m.Lock();
    expect(lock).toBeInstanceOf(LockProxy);
    expect(await lock.acquire()).toBe(true);
    expect(await lock.locked()).toBe(true);
    expect(await lock.acquire({ timeout: 20 })).toBe(false); // not re-entrant
    expect(await lock.acquire({ blocking: false })).toBe(false);
    await lock.release();
    await expect(lock.release()).rejects.toThrow(InvalidStateError);
    expect(await lock.withLock(() => 42)).toBe(42);
    await lock.acquire();
    await expect(lock.withLock(() => 1, { timeout: 10 })).rejects.toThrow(TimeoutError);
    await lock.release();
    const r = await m.RLock();
    expect(await r.acquire()).toBe(true);
    expect(await r.acquire({ timeout: 0 })).toBe(true); // re-entered
    await r.release();
    await r.release();
    await expect(r.release()).rejects.toThrow(InvalidStateError);
    // held by another client (a thread): a Lock may be released by anyone, an RLock only by its owner
    const out = await m.dict<string, { got: boolean; release: string }>();
    await lock.acquire();
    await joined(await run("tryHeldLock", [lock, out], "thread"));
    expect(await out.get("result")).toEqual({ got: false, release: "released" });
    expect(await lock.locked()).toBe(false);
    await r.acquire();
    await joined(await run("tryHeldLock", [r, out], "thread"));
    expect(await out.get("result")).toEqual({ got: false, release: "InvalidStateError" });
    await r.release();
  }, 60_000);

  it.each(["Lock", "RLock"] as const)("a process killed while holding a manager %s lets go of it", async (kind) => {
    await using m = await Manager({ context: "thread" });
    const lock = kind === "Lock" ? await m.Lock() : await m.RLock();
    const held = await m.Event();
    const p = await run("holdLock", [lock, held], "process");
    expect(await held.wait({ timeout: 30_000 })).toBe(true);
    expect(await lock.acquire({ timeout: 0 })).toBe(false);
    p.kill();
    expect(await lock.acquire({ timeout: 10_000 })).toBe(true);
    await p.join({ timeout: 10_000 });
  }, 60_000);

  it("Semaphore and BoundedSemaphore", async () => {
    await using m = await Manager({ context: "thread" });
    const s = await m.Semaphore(2);
    expect(await s.acquire()).toBe(true);
    expect(await s.acquire()).toBe(true);
    expect(await s.getValue()).toBe(0);
    expect(await s.acquire({ timeout: 20 })).toBe(false);
    expect(await s.acquire({ blocking: false })).toBe(false);
    const waiting = s.acquire({ timeout: 10_000 });
    await s.release(2);
    expect(await waiting).toBe(true);
    expect(await s.getValue()).toBe(1);
    const b = await m.BoundedSemaphore(1);
    await expect(b.release()).rejects.toThrow(InvalidStateError);
    expect(await b.withLock(() => "inside")).toBe("inside");
    await expect(m.Semaphore(-1)).rejects.toThrow(RangeError);
  });

  it.each(contexts)("Condition: a %s child waits until notified; waits and notifies need the lock", async (context) => {
    await using m = await Manager({ context: "thread" });
    const cond = await m.Condition();
    expect(cond).toBeInstanceOf(ConditionProxy);
    await expect(cond.wait({ timeout: 10 })).rejects.toThrow(InvalidStateError);
    await expect(cond.notify()).rejects.toThrow(InvalidStateError);
    await cond.acquire();
    expect(await cond.wait({ timeout: 20 })).toBe(false); // and holds the lock again
    await cond.notifyAll();
    await cond.release();
    const d = await m.dict<string, boolean>();
    const waiting = await m.Event();
    const p = await run("conditionWaiter", [cond, d, waiting], context);
    // the child sets `waiting` holding the lock, which it lets go of only inside wait()
    expect(await waiting.wait({ timeout: 30_000 })).toBe(true);
    await cond.acquire();
    await d.set("ready", true);
    await cond.notify();
    await cond.release();
    await joined(p);
    expect(await d.get("woken")).toBe(true);
    // over a given lock of the same manager
    const lock = await m.Lock();
    const c2 = await m.Condition(lock);
    await c2.acquire();
    expect(await lock.locked()).toBe(true);
    await c2.release();
  }, 60_000);
});

describe("a manager's Event and Barrier", () => {
  it.each(contexts)("an Event releases %s children that then meet the parent at a Barrier", async (context) => {
    await using m = await Manager({ context: "thread" });
    const ev = await m.Event();
    const barrier = await m.Barrier(3);
    const out = await m.list<number>();
    expect(await ev.isSet()).toBe(false);
    expect(await ev.wait({ timeout: 10 })).toBe(false);
    const ps = [await run("eventThenBarrier", [ev, barrier, out], context), await run("eventThenBarrier", [ev, barrier, out], context)];
    await ev.set();
    expect(await ev.isSet()).toBe(true);
    const mine = await barrier.wait({ timeout: 30_000 });
    for (const p of ps) await joined(p);
    expect([mine, ...(await out.toArray())].sort()).toEqual([0, 1, 2]);
    await ev.clear();
    expect(await ev.isSet()).toBe(false);
    expect(await barrier.parties()).toBe(3);
  }, 60_000);

  it("a timed-out wait breaks the barrier for everyone; reset makes it usable; abort breaks it", async () => {
    await using m = await Manager({ context: "thread" });
    const b = await m.Barrier(2);
    const other = b.wait({ timeout: 10_000 });
    await expect(b.wait({ timeout: 0 })).resolves.toBe(1); // the second party trips it
    expect(await other).toBe(0);
    await expect(b.wait({ timeout: 20 })).rejects.toThrow(BrokenBarrierError);
    expect(await b.broken()).toBe(true);
    await b.reset();
    expect(await b.broken()).toBe(false);
    const waiting = b.wait({ timeout: 10_000 });
    expect(await b.nWaiting()).toBe(1);
    await b.abort();
    await expect(waiting).rejects.toThrow(BrokenBarrierError);
    await expect(m.Barrier(0)).rejects.toThrow(RangeError);
  });
});

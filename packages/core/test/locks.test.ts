import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { timed } from "@ipc/test-utils/timed";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  Condition,
  Event,
  InvalidStateError,
  IpcError,
  Lock,
  RLock,
  Semaphore,
  serialize,
} from "@ipc/core";

function worker(fixture: string, data: unknown): Promise<unknown> {
  const shared: SharedArrayBuffer[] = [];
  const bytes = serialize(data, { target: "thread", shared });
  const w = new Worker(new URL(`./fixtures/${fixture}`, import.meta.url), { workerData: { bytes, shared } });
  return new Promise((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
}

describe("Lock (LOCK-02, LOCK-07)", () => {
  it("acquire, try, release, locked, release unlocked throws", async () => {
    const l = new Lock();
    expect(await l.acquire()).toBe(true);
    expect(l.locked()).toBe(true);
    expect(l.tryAcquire()).toBe(false);
    expect(await timed(l.acquire({ timeout: 0 }), 0, 50)).toBe(false);
    expect(await timed(() => l.acquire({ timeout: 100 }), 100, 600)).toBe(false);
    await expect(timed(() => l.acquireSync({ timeout: 100 }), 100, 600)).resolves.toBe(false);
    expect(l.release()).toBeUndefined();
    expect(l.locked()).toBe(false);
    expect(() => l.release()).toThrow(IpcError);
    expect(l.acquireSync()).toBe(true);
    l.release();
  });

  it("withLock returns the body's value and releases on throw", async () => {
    const l = new Lock();
    expect(await l.withLock(() => 5)).toBe(5);
    await expect(l.withLock(() => Promise.reject(new Error("x")))).rejects.toThrow("x");
    expect(l.locked()).toBe(false);
    expect(l.withLockSync(() => 7)).toBe(7);
    await l.acquire();
    await expect(l.withLock(() => 1, { timeout: 10 })).rejects.toThrow(/timed out/);
    l.release();
  });

  it("an AbortSignal cancels a wait", async () => {
    const l = new Lock();
    await l.acquire();
    const ac = new AbortController();
    const p = l.acquire({ signal: ac.signal });
    ac.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
    await expect(l.acquire({ signal: AbortSignal.abort() })).rejects.toThrow();
    l.release();
    expect(await l.acquire({ timeout: 0 })).toBe(true);
  });

  it("wakes an async waiter on release, and any holder may release", async () => {
    const l = new Lock();
    await l.acquire();
    const p = l.acquire();
    l.release();
    expect(await p).toBe(true);
    l.release();
  });

  it("rejects bad options", async () => {
    const l = new Lock();
    await expect(l.acquire({ timeout: "1" as never })).rejects.toThrow(TypeError);
    await expect(l.acquire({ signal: {} as never })).rejects.toThrow(TypeError);
  });

  it("keeps 2 worker threads mutually exclusive (200k increments)", async () => {
    const lock = new Lock();
    const counter = new Int32Array(new SharedArrayBuffer(8));
    const n = 100_000;
    await Promise.all([worker("increment.mjs", { lock, counter, n }), worker("increment.mjs", { lock, counter, n })]);
    expect(counter[0]).toBe(2 * n);
  });
});

describe("RLock (LOCK-05)", () => {
  it("re-enters, counts, and refuses one release too many", async () => {
    const r = new RLock();
    expect(await r.acquire()).toBe(true);
    expect(r.locked()).toBe(true);
    expect(r.acquireSync()).toBe(true);
    expect(r.tryAcquire()).toBe(true);
    expect(r.toString()).toBe("<RLock(self, 3)>");
    r.release();
    expect(r.locked()).toBe(true);
    r.release();
    r.release();
    expect(r.locked()).toBe(false);
    expect(() => r.release()).toThrow(InvalidStateError);
  });

  it("is owned by one thread: another thread cannot release it or take it", async () => {
    const r = new RLock();
    await r.acquire();
    const result = (await worker("rlock-other.mjs", { r })) as { released: string; tried: boolean };
    expect(result.released).toBe("InvalidStateError");
    expect(result.tried).toBe(false);
    r.release();
  });
});

describe("Semaphore (SEM-01..03)", () => {
  it("counts and grows past its initial value", async () => {
    const s = new Semaphore(2);
    expect(s.getValue()).toBe(2);
    expect(await s.acquire()).toBe(true);
    expect(s.getValue()).toBe(1);
    expect(s.acquireSync()).toBe(true);
    expect(s.getValue()).toBe(0);
    expect(s.tryAcquire()).toBe(false);
    s.release();
    s.release();
    s.release();
    s.release(1);
    expect(s.getValue()).toBe(4);
  });

  it("bounded: release above the initial value throws and keeps the value", () => {
    const s = new BoundedSemaphore(2);
    expect(s.tryAcquire()).toBe(true);
    s.release();
    expect(() => s.release()).toThrow(InvalidStateError);
    expect(s.getValue()).toBe(2);
  });

  it("timeouts: 0 returns at once, 100 ms waits about 100 ms", async () => {
    const s = new Semaphore(0);
    expect(await timed(s.acquire({ timeout: 0 }), 0, 50)).toBe(false);
    expect(await timed(() => s.acquire({ timeout: 100 }), 100, 600)).toBe(false);
    expect(await timed(() => s.acquireSync({ timeout: 100 }), 100, 600)).toBe(false);
  });

  it("release(n) wakes waiters; bad arguments throw", async () => {
    const s = new Semaphore(0);
    const a = s.acquire();
    const b = s.acquire();
    s.release(2);
    expect(await Promise.all([a, b])).toEqual([true, true]);
    expect(() => new Semaphore(-1)).toThrow(RangeError);
    expect(() => new Semaphore(1.5)).toThrow(TypeError);
    expect(() => s.release(0)).toThrow(RangeError);
  });
});

describe("Event (EVT-01)", () => {
  it("wait returns the flag, with timeouts", async () => {
    const e = new Event();
    expect(e.isSet()).toBe(false);
    expect(await timed(e.wait({ timeout: 0 }), 0, 50)).toBe(false);
    expect(await timed(() => e.wait({ timeout: 100 }), 100, 600)).toBe(false);
    await expect(timed(() => e.waitSync({ timeout: 50 }), 50, 600)).resolves.toBe(false);
    e.set();
    expect(e.isSet()).toBe(true);
    expect(await timed(e.wait(), 0, 50)).toBe(true);
    expect(e.waitSync({ timeout: 100 })).toBe(true);
    e.clear();
    expect(e.isSet()).toBe(false);
  });

  it("a worker's set wakes an async waiter", async () => {
    const e = new Event();
    const waiting = e.wait({ timeout: 10_000 });
    void worker("set-event.mjs", { e });
    expect(await waiting).toBe(true);
  });
});

describe("Condition (COND-03, COND-04, COND-07)", () => {
  it("wait times out with false and re-holds the lock", async () => {
    const c = new Condition();
    await c.acquire();
    expect(await timed(c.wait({ timeout: 0 }), 0, 50)).toBe(false);
    expect(await timed(() => c.wait({ timeout: 100 }), 100, 600)).toBe(false);
    await expect(timed(() => c.waitSync({ timeout: 50 }), 50, 600)).resolves.toBe(false);
    expect(c.lock.locked()).toBe(true);
    c.release();
  });

  it("wait/notify without the lock throws", async () => {
    const c = new Condition(new Lock());
    await expect(c.wait()).rejects.toThrow(InvalidStateError);
    expect(() => c.notify()).toThrow(InvalidStateError);
    expect(() => new Condition({} as never)).toThrow(TypeError);
  });

  it("notify(n) wakes exactly n; a notify with no waiter is not remembered", async () => {
    const c = new Condition();
    const sleeping = new Semaphore(0);
    const woken = new Semaphore(0);
    const waiters = Array.from({ length: 5 }, () =>
      c.withLock(async () => {
        sleeping.release();
        await c.wait();
        woken.release();
      }),
    );
    for (let i = 0; i < 5; i++) expect(await sleeping.acquire({ timeout: 5000 })).toBe(true);
    // each waiter released `sleeping` holding the lock, so all 5 are inside wait() once we hold it
    await c.withLock(() => c.notify(2));
    expect(await woken.acquire({ timeout: 5000 })).toBe(true);
    expect(await woken.acquire({ timeout: 5000 })).toBe(true);
    expect(await woken.acquire({ timeout: 100 })).toBe(false);
    await c.withLock(() => c.notify(10));
    await Promise.all(waiters);
    expect(woken.getValue()).toBe(3);
    await c.withLock(() => c.notify(3));
    await c.acquire();
    expect(await c.wait({ timeout: 20 })).toBe(false);
    c.release();
  });

  it("waitFor returns the predicate's value, true when met and false on timeout", async () => {
    const c = new Condition();
    let v = 0;
    await c.acquire();
    expect(await timed(() => c.waitFor(() => v === 1, { timeout: 50 }), 50, 600)).toBe(false);
    const setter = (async () => {
      for (let i = 0; i < 4; i++) {
        await c.withLock(() => {
          v = i === 3 ? 1 : 0;
          c.notifyAll();
        });
      }
    })();
    expect(await c.waitFor(() => v === 1, { timeout: 5000 })).toBe(true);
    c.release();
    await setter;
    await c.acquire();
    expect(c.waitForSync(() => v === 1)).toBe(true);
    c.release();
  });

  it("a worker thread notifies a waiting main thread (wait(60 s) → true)", async () => {
    const c = new Condition();
    await c.acquire();
    void worker("notify.mjs", { c });
    expect(await c.wait({ timeout: 60_000 })).toBe(true);
    c.release();
  });
});

describe("Barrier (BAR-03, 04, 05, 06, 08, 10)", () => {
  it("single party passes at once; indices are unique per round", async () => {
    const b = new Barrier(1);
    expect(await b.wait()).toBe(0);
    expect(b.waitSync()).toBe(0);
    const b3 = new Barrier(3);
    for (let round = 0; round < 3; round++) {
      const idx = await Promise.all([b3.wait(), b3.wait(), b3.wait()]);
      expect([...idx].sort()).toEqual([0, 1, 2]);
    }
    expect(b3.nWaiting).toBe(0);
    expect(b3.broken).toBe(false);
    expect(b3.parties).toBe(3);
  });

  it("runs the action once, before anyone is released", async () => {
    const seen: number[] = [];
    let runs = 0;
    const b = new Barrier(3, { action: () => runs++ });
    await Promise.all([0, 1, 2].map(async () => {
      await b.wait();
      seen.push(runs);
    }));
    expect(runs).toBe(1);
    expect(seen).toEqual([1, 1, 1]);
  });

  it("a failing action breaks the barrier for all", async () => {
    const b = new Barrier(2, { action: () => { throw new Error("action failed"); } });
    const results = await Promise.allSettled([b.wait(), b.wait()]);
    const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as Error).name : "ok")).sort();
    expect(reasons).toEqual(["BrokenBarrierError", "Error"]);
    expect(b.broken).toBe(true);
  });

  it("a timeout breaks it for every party; reset makes it usable again", async () => {
    const b = new Barrier(3);
    const first = b.wait({ timeout: 5000 });
    const second = b.wait({ timeout: 50 });
    await expect(second).rejects.toThrow(BrokenBarrierError);
    await expect(first).rejects.toThrow(BrokenBarrierError);
    await expect(b.wait()).rejects.toThrow(BrokenBarrierError);
    expect(b.broken).toBe(true);
    b.reset();
    expect(b.broken).toBe(false);
    const idx = await Promise.all([b.wait(), b.wait(), b.wait()]);
    expect(idx.sort()).toEqual([0, 1, 2]);
  });

  it("default timeout from the constructor", async () => {
    const b = new Barrier(2, { timeout: 30 });
    await expect(b.wait()).rejects.toThrow(BrokenBarrierError);
  });

  it("reset breaks current waiters and leaves it usable; abort breaks it", async () => {
    const b = new Barrier(3);
    const w1 = b.wait();
    const w2 = b.wait();
    while (b.nWaiting < 2) await new Promise((r) => setImmediate(r));
    b.reset();
    await expect(w1).rejects.toThrow(BrokenBarrierError);
    await expect(w2).rejects.toThrow(BrokenBarrierError);
    expect((await Promise.all([b.wait(), b.wait(), b.wait()])).sort()).toEqual([0, 1, 2]);
    const w3 = b.wait();
    b.abort();
    await expect(w3).rejects.toThrow(BrokenBarrierError);
    expect(b.broken).toBe(true);
  });

  it("a function action cannot be shared; an { module, name } action can", () => {
    expect(() => serialize(new Barrier(2, { action: () => {} }), { target: "thread", shared: [] })).toThrow(/cannot be shared/);
    expect(() => serialize(new Barrier(2, { action: { module: "x", name: "y" } }), { target: "thread", shared: [] })).not.toThrow();
    expect(() => new Barrier(0)).toThrow(RangeError);
  });

  it("works across worker threads with waitSync (5 parties × 20 rounds)", async () => {
    const b = new Barrier(5);
    const log = new Int32Array(new SharedArrayBuffer(4 * 100));
    const workers = Array.from({ length: 4 }, () => worker("barrier-rounds.mjs", { b, log, rounds: 20 }));
    for (let i = 0; i < 20; i++) {
      Atomics.add(log, i, 1);
      await b.wait({ timeout: 20_000 });
      expect(Atomics.load(log, i)).toBe(5);
    }
    expect(await Promise.all(workers)).toEqual([true, true, true, true]);
  }, 60_000);
});

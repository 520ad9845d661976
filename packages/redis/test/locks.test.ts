import { describe, expect, it } from "vitest";
import { timed } from "@ipc/test-utils/timed";
import { ClosedError, Event, InvalidStateError, Lock, Semaphore, TimeoutError } from "@ipc/redis";
import { closeAfterEach, fresh, startChild, url } from "./helpers.js";

const track = closeAfterEach();

describe("Lock on Redis", () => {
  it("excludes a second holder; tryAcquire, timed acquire and release wake a waiter", async () => {
    const name = fresh("lock");
    const a = track(new Lock({ connection: url(), name }));
    const b = track(new Lock({ connection: url(), name }));
    expect(await a.locked()).toBe(false);
    expect(await a.acquire()).toBe(true);
    expect(await b.locked()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect(await timed(() => b.acquire({ timeout: 200 }), 190, 1500)).toBe(false);
    const waiting = b.acquire({ timeout: 10_000 });
    await a.release();
    expect(await timed(waiting, 0, 2000)).toBe(true);
    await expect(a.release()).rejects.toBeInstanceOf(InvalidStateError);
    await b.release();
    expect(await a.locked()).toBe(false);
  });

  it("withLock serializes 20 increments from two clients", async () => {
    const name = fresh("lock");
    const a = track(new Lock({ connection: url(), name }));
    const b = track(new Lock({ connection: url(), name }));
    let inside = 0;
    let most = 0;
    const work = async (l: Lock): Promise<void> => {
      await l.withLock(async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setImmediate(r));
        inside--;
      });
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => work(i % 2 ? a : b)));
    expect(most).toBe(1);
    await expect(a.withLock(() => 1, { timeout: 0 })).resolves.toBe(1);
    await a.acquire();
    await expect(b.withLock(() => 1, { timeout: 50 })).rejects.toBeInstanceOf(TimeoutError);
    await a.release();
  });

  it("the lock of a holder killed with SIGKILL is free again once its lease runs out", async () => {
    const name = fresh("lock");
    const holder = startChild("lock-hold", { url: url(), name, leaseMs: 500 });
    await holder.waitFor(/^acquired true$/);
    holder.proc.kill("SIGKILL");
    await holder.exited();
    const a = track(new Lock({ connection: url(), name, leaseMs: 500 }));
    expect(await timed(() => a.acquire({ timeout: 5000 }), 0, 3000)).toBe(true);
  });

  it("a live holder keeps its lock past leaseMs (it renews it)", async () => {
    const name = fresh("lock");
    // renewed every 150 ms: a loaded machine may delay a renewal, not by the whole lease
    const a = track(new Lock({ connection: url(), name, leaseMs: 450 }));
    const b = track(new Lock({ connection: url(), name, leaseMs: 450 }));
    await a.acquire();
    expect(await b.acquire({ timeout: 1500 })).toBe(false);
    await a.release();
  });

  it("an aborted acquire rejects with the reason and takes nothing", async () => {
    const name = fresh("lock");
    const a = track(new Lock({ connection: url(), name }));
    const b = track(new Lock({ connection: url(), name }));
    await a.acquire();
    const ac = new AbortController();
    const p = b.acquire({ signal: ac.signal });
    setImmediate(() => ac.abort(new Error("enough")));
    await expect(timed(p, 0, 1000)).rejects.toThrow("enough");
    await a.release();
    expect(b.heldByMe).toBe(0);
    expect(await a.locked()).toBe(false);
    await expect(b.acquire({ signal: AbortSignal.abort(new Error("before")) })).rejects.toThrow("before");
  });

  it("close gives the lock back and rejects later calls", async () => {
    const name = fresh("lock");
    const a = new Lock({ connection: url(), name });
    await a.acquire();
    await a.close();
    await expect(a.acquire()).rejects.toBeInstanceOf(ClosedError);
    const b = track(new Lock({ connection: url(), name }));
    expect(await b.tryAcquire()).toBe(true);
  });
});

describe("Semaphore on Redis", () => {
  it("hands out value permits across clients; getValue counts what is free", async () => {
    const name = fresh("sem");
    const a = track(new Semaphore({ connection: url(), name, value: 2 }));
    const b = track(new Semaphore({ connection: url(), name, value: 2 }));
    expect(await a.getValue()).toBe(2);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(true);
    expect(await a.getValue()).toBe(0);
    expect(await b.tryAcquire()).toBe(false);
    const waiting = b.acquire({ timeout: 5000 });
    await a.release();
    expect(await waiting).toBe(true);
    expect(b.heldByMe).toBe(2);
    await b.release();
    await b.release();
    await expect(b.release()).rejects.toBeInstanceOf(InvalidStateError);
    expect(await a.getValue()).toBe(2);
  });

  it("bad options are refused", () => {
    expect(() => new Semaphore({ connection: url(), name: "s", value: 0 })).toThrow(RangeError);
    expect(() => new Semaphore({ connection: url(), name: "s", leaseMs: 1 })).toThrow(RangeError);
    expect(() => new Lock({ connection: url(), name: "" })).toThrow(TypeError);
  });
});

describe("Event on Redis", () => {
  it("set wakes a waiter in another process; clear, isSet and timed waits", async () => {
    const name = fresh("ev");
    const e = track(new Event({ connection: url(), name }));
    expect(await e.isSet()).toBe(false);
    expect(await timed(() => e.wait({ timeout: 150 }), 140, 1500)).toBe(false);
    const child = startChild("event-wait", { url: url(), name });
    await child.waitFor(/^waiting$/);
    await e.set();
    await child.waitFor(/^woke true$/);
    expect(await e.isSet()).toBe(true);
    expect(await e.wait()).toBe(true);
    await e.clear();
    expect(await e.isSet()).toBe(false);
    expect(await e.wait({ timeout: 0 })).toBe(false);
    expect(await child.exited()).toBe(0);
  });

  it("an aborted wait rejects with the reason; close rejects a pending wait with ClosedError", async () => {
    const e = new Event({ connection: url(), name: fresh("ev") });
    await expect(timed(e.wait({ signal: AbortSignal.timeout(100) }), 90, 1500)).rejects.toThrow();
    const w = e.wait();
    await e.close();
    await expect(w).rejects.toBeInstanceOf(ClosedError);
  });
});

/**
 * The generic proxy layer: a remote copy of a shared object (what a process without its memory
 * holds) forwards the methods of its class's `exposed` table to the object's home, by name. Made
 * here in one process: the object is registered with this process's broker and revived from a
 * handle that names it there, so every call crosses a real socket to the broker thread.
 */
import { describe, expect, it } from "vitest";
import { Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore } from "@ipc/core";
import { exportToBroker, remoteClient, remoteCopyOf as remoteCopy } from "@ipc/core/internal";


describe("a remote copy", () => {
  it("is an instance of the class; its exposed methods call the home, the rest is the class's own code", async () => {
    const lock = new Lock();
    const far = remoteCopy(lock);
    expect(far).toBeInstanceOf(Lock);
    expect(far.constructor).toBe(Lock);
    expect(far.acquire.name).toBe("acquire");
    expect(Object.getPrototypeOf(far)).not.toBe(Lock.prototype);
    expect(Object.getPrototypeOf(Object.getPrototypeOf(far))).toBe(Lock.prototype);
    // async, its Sync twin, and the sync methods
    expect(await far.acquire()).toBe(true);
    expect(lock.locked()).toBe(true);
    expect(far.locked()).toBe(true);
    expect(far.acquireSync({ timeout: 0 })).toBe(false);
    expect(await far.acquire({ timeout: 0 })).toBe(false);
    far.release();
    expect(lock.locked()).toBe(false);
    expect(far.tryAcquire()).toBe(true);
    lock.release();
    // withLock is Lock's own code over the forwarded acquire and release
    expect(await far.withLock(() => lock.locked())).toBe(true);
    expect(lock.locked()).toBe(false);
    expect(String(far)).toBe("<Lock(owner=remote)>");
  });

  it("getters travel too (a Barrier's parties, nWaiting, broken)", async () => {
    const b = new Barrier(2);
    const far = remoteCopy(b);
    expect(far.parties).toBe(2);
    expect(far.nWaiting).toBe(0);
    expect(far.broken).toBe(false);
    const waiting = far.wait();
    await expect.poll(() => b.nWaiting, { timeout: 5000 }).toBe(1);
    expect(far.nWaiting).toBe(1);
    const [mine, theirs] = await Promise.all([b.wait(), waiting]);
    expect([mine, theirs].sort()).toEqual([0, 1]);
    far.abort();
    expect(b.broken).toBe(true);
    far.reset();
    expect(far.broken).toBe(false);
  });

  it("bad arguments are refused with the class a local call throws, checked at the home", async () => {
    const far = remoteCopy(new Semaphore(1));
    await expect(far.acquire({ timeout: "soon" as never })).rejects.toThrow(TypeError);
    expect(() => far.acquireSync({ timeout: Number.NaN })).toThrow(TypeError);
    expect(() => far.release(0)).toThrow(RangeError);
    expect(() => far.release(1.5)).toThrow(TypeError);
    await expect(far.acquire({ signal: "stop" as never })).rejects.toThrow(TypeError);
    const bounded = remoteCopy(new BoundedSemaphore(1));
    expect(() => bounded.release()).toThrow(/released too many times/);
    expect(far.getValue()).toBe(1);
  });

  it("an options object's signal stays here: aborting it ends the wait at the home", async () => {
    const e = new Event();
    const far = remoteCopy(e);
    const ac = new AbortController();
    const waiting = far.wait({ signal: ac.signal });
    ac.abort(new Error("enough"));
    await expect(waiting).rejects.toThrow("enough");
    const next = far.wait({ timeout: 10_000 });
    e.set();
    expect(await next).toBe(true);
    expect(far.isSet()).toBe(true);
    far.clear();
    expect(e.isSet()).toBe(false);
    expect(far.waitSync({ timeout: 0 })).toBe(false);
  });

  it("an RLock's owner is the copy's process; a Condition over a remote lock waits and is notified", async () => {
    const r = new RLock();
    const far = remoteCopy(r);
    expect(await far.acquire()).toBe(true);
    expect(far.acquireSync()).toBe(true);
    // this thread is another owner than the copy's connection
    expect(r.acquireSync({ timeout: 0 })).toBe(false);
    far.release();
    far.release();
    expect(r.acquireSync({ timeout: 0 })).toBe(true);
    r.release();

    const l = new Lock();
    const c = new Condition(l);
    const fc = remoteCopy(c);
    expect(await fc.acquire()).toBe(true);
    const waiter = fc.wait({ timeout: 10_000 });
    // the home releases the lock once the copy waits: taking it here means the copy is waiting
    expect(await l.acquire({ timeout: 10_000 })).toBe(true);
    c.notify();
    l.release();
    expect(await waiter).toBe(true);
    // the copy holds the lock again after its wait
    expect(l.locked()).toBe(true);
    fc.release();
    expect(() => fc.notify(-1)).toThrow(RangeError);
  });

  it("the home serves only the names of the exposed table: inherited and internal names are refused", () => {
    const lock = new Lock();
    const ref = exportToBroker(lock);
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "acquireAs", "releaseAs", "serve", "words"]) {
      expect(() => remoteClient().callSync(ref, name, [])).toThrow(/has no remote method .* \(not exposed\)/);
    }
    expect(lock.locked()).toBe(false);
  });
});

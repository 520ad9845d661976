/**
 * A queue's remote copy (what a process without its memory holds): its methods come from the
 * queue's `exposed` table and forward to the queue's home over a real socket to this process's
 * broker. Items travel as the bytes the home stores (the queue's `remoteCodec`).
 */
import { describe, expect, it } from "vitest";
import { ClosedError, EmptyError, FullError, InvalidStateError, Lock, ShutDownError } from "@ipc/core";
import { remoteCopyOf as remoteCopy } from "@ipc/core/internal";
import { JoinableQueue, Queue } from "@ipc/queue";


describe("a remote copy of a Queue", () => {
  it("puts and gets items (handles inside them too), both ways, async and sync", async () => {
    const q = new Queue<unknown>({ maxSize: 2 });
    const far = remoteCopy(q);
    expect(far).toBeInstanceOf(Queue);
    expect(far.maxSize).toBe(2);
    await far.put({ id: 1, op: "x" });
    far.putSync([1n, new Map([[1, 2]])]);
    expect(far.full()).toBe(true);
    expect(far.qsize()).toBe(2);
    await expect(far.put(3, { timeout: 0 })).rejects.toThrow(FullError);
    expect(() => far.putNowait(3)).toThrow(FullError);
    expect(await q.get()).toEqual({ id: 1, op: "x" });
    expect(far.getSync()).toEqual([1n, new Map([[1, 2]])]);
    expect(far.empty()).toBe(true);
    await expect(far.get({ timeout: 0 })).rejects.toThrow(EmptyError);
    expect(() => far.getNowait()).toThrow(EmptyError);
    // a lock put by the copy is the same lock where it is taken
    const lock = new Lock();
    await far.put(lock);
    const got = (await q.get()) as Lock;
    got.acquireSync();
    expect(lock.locked()).toBe(true);
    got.release();
    q.putSync("from home");
    expect(await far.get()).toBe("from home");
  });

  it("close() ends the copy's pending get with ClosedError, and the home's wait with it", async () => {
    const q = new Queue<number>();
    const far = remoteCopy(q);
    const pending = far.get();
    far.close();
    await expect(pending).rejects.toThrow(ClosedError);
    await expect(far.put(1)).rejects.toThrow(ClosedError);
    expect(() => far.putSync(1)).toThrow(ClosedError);
    // the home's get ended: the next item is the home's own
    q.putSync(7);
    expect(q.getSync({ timeout: 0 })).toBe(7);
  });

  it("an aborted signal ends a forwarded get; shutdown travels with its options", async () => {
    const q = new Queue<number>();
    const far = remoteCopy(q);
    const ac = new AbortController();
    const pending = far.get({ signal: ac.signal });
    ac.abort(new Error("no more"));
    await expect(pending).rejects.toThrow("no more");
    q.putSync(1);
    far.shutdown();
    expect(await far.get()).toBe(1);
    await expect(far.get()).rejects.toThrow(ShutDownError);
    await expect(far.put(2)).rejects.toThrow(ShutDownError);
    const items: number[] = [];
    for await (const x of far) items.push(x);
    expect(items).toEqual([]);
  });

  it("a JoinableQueue's copy marks tasks done and joins", async () => {
    const q = new JoinableQueue<number>();
    const far = remoteCopy(q);
    await far.put(1);
    far.putSync(2);
    const joined = far.join({ timeout: 10_000 });
    expect(q.getSync()).toBe(1);
    expect(await far.get()).toBe(2);
    q.taskDone();
    far.taskDone();
    await expect(joined).resolves.toBeUndefined();
    far.joinSync({ timeout: 0 });
    expect(() => far.taskDone()).toThrow(InvalidStateError);
  });
});

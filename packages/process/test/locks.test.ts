import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { Barrier, BrokenBarrierError, Condition, Event, Lock, RLock, Semaphore } from "@ipc/core";
import { Process } from "@ipc/process";
import { contexts, ended, targets } from "./helpers.js";

function start(target: string, args: unknown[], context: "thread" | "process", extra: object = {}): Process {
  const p = new Process({ module: targets, target, args, context, ...extra });
  p.start();
  return p;
}

describe.each(contexts)("locks shared with a %s child", (context) => {
  it("Lock: try, timed and sync acquire fail while the parent holds it; then the child gets it", async () => {
    const lock = new Lock();
    const [tried, proceed, got, release] = [new Event(), new Event(), new Event(), new Event()];
    await lock.acquire();
    const p = start("lockProtocol", [lock, tried, proceed, got, release], context);
    expect(await tried.wait({ timeout: 20_000 })).toBe(true);
    lock.release();
    proceed.set();
    expect(await got.wait({ timeout: 20_000 })).toBe(true);
    expect(lock.locked()).toBe(true);
    expect(await lock.acquire({ timeout: 0 })).toBe(false);
    release.set();
    // the child checks `locked()` right after its release: taking the lock only once it has
    // exited keeps that check from racing with us (a flake under load: exit code 15)
    expect(await ended(p)).toBe(31);
    expect(await lock.acquire({ timeout: 0 })).toBe(true);
    lock.release();
  });

  it("RLock: a child cannot release the parent's RLock", async () => {
    const r = new RLock();
    await r.acquire();
    expect(await ended(start("rlockOther", [r], context))).toBe(0);
    r.release();
  });

  it(`a lock held by a child that exits ${context === "thread" ? "stays locked (LOCK-03)" : "is released when its process exits"}`, async () => {
    const lock = new Lock();
    const held = new Event();
    const p = start("holdAndExit", [lock, held], context);
    expect(await held.wait({ timeout: 20_000 })).toBe(true);
    expect(await ended(p)).toBe(0);
    if (context === "thread") expect(lock.locked()).toBe(true);
    else {
      // a waiter takes over a lock whose holder process has exited (its broker releases it without @ipc/native)
      expect(await lock.acquire({ timeout: 20_000 })).toBe(true);
      lock.release();
    }
  });

  it("Condition: notify wakes a waiting child, async and sync forms (COND-01)", async () => {
    for (const target of ["condWaiter", "condWaiterSync"]) {
      const cond = new Condition();
      const sleeping = new Semaphore(0);
      const woken = new Semaphore(0);
      const p = start(target, [cond, sleeping, woken], context);
      expect(await sleeping.acquire({ timeout: 20_000 })).toBe(true);
      // the child released `sleeping` holding the lock: once we hold it, the child is inside wait()
      await cond.withLock(() => {
        expect(woken.getValue()).toBe(0);
        cond.notify();
      });
      expect(await woken.acquire({ timeout: 20_000 })).toBe(true);
      expect(await ended(p)).toBe(0);
    }
  });

  it("Semaphore and Event cross the boundary with their sync and async forms", async () => {
    const sem = new Semaphore(0);
    const ev = new Event();
    const p = start("semaphoreUser", [sem, ev], context);
    sem.release();
    expect(await ev.wait({ timeout: 20_000 })).toBe(true);
    expect(await ended(p)).toBe(0);
    expect(sem.getValue()).toBe(3);

    const go = new Event();
    const done = new Event();
    const q = start("eventSetter", [go, done], context);
    go.set();
    expect(await done.wait({ timeout: 20_000 })).toBe(true);
    expect(await ended(q)).toBe(0);
    expect(go.isSet()).toBe(false);
  });

  it("Barrier: parent and two children pass 5 rounds with unique indices (BAR-01, BAR-03)", async () => {
    const b = new Barrier(3, { timeout: 20_000 });
    const a = start("barrierParty", [b, 5, false], context);
    const s = start("barrierParty", [b, 5, true], context);
    let seen = 0;
    for (let i = 0; i < 5; i++) seen |= 1 << (await b.wait());
    const codes = [await ended(a), await ended(s)];
    // every party saw a valid index; together the three saw each index at least once per round set
    expect(seen | codes[0]! | codes[1]!).toBe(0b111);
    expect(b.broken).toBe(false);
  });

  it("remote members: RLock re-entrancy, Barrier properties/reset/abort, an aborted acquire", async () => {
    const lock = new Lock();
    await lock.acquire();
    const p = start("remoteMisc", [lock, new RLock(), new Barrier(3)], context);
    expect(await ended(p)).toBe(63);
    // the cancelled waiter does not hold the lock after we release it
    lock.release();
    expect(await lock.acquire({ timeout: 1000 })).toBe(true);
    lock.release();
  });

  it("Barrier: a child's timeout breaks it for the parent too (BAR-08)", async () => {
    const b = new Barrier(3);
    const p = start("barrierParty", [b, 1, false], context);
    // only two parties ever arrive; the parent's own timeout breaks the barrier
    await expect(b.wait({ timeout: 200 })).rejects.toThrow(BrokenBarrierError);
    expect(await ended(p)).toBe(1);
  });
});

describe("Condition with waiters in threads and processes together (COND-02, COND-03)", () => {
  it("notify(2) wakes exactly 2 of 6 mixed waiters, notify(4) the rest, and a later notify is not remembered", async () => {
    const cond = new Condition();
    const sleeping = new Semaphore(0);
    const woken = new Semaphore(0);
    const parties = (["thread", "thread", "thread", "process", "process", "process"] as const).map((context) =>
      start("condWaiter", [cond, sleeping, woken], context),
    );
    for (let i = 0; i < 6; i++) expect(await sleeping.acquire({ timeout: 30_000 })).toBe(true);
    // all six released `sleeping` holding the lock: once we hold it, all six are inside wait()
    await cond.withLock(() => cond.notify(2));
    for (let i = 0; i < 2; i++) expect(await woken.acquire({ timeout: 30_000 })).toBe(true);
    expect(await woken.acquire({ timeout: 200 })).toBe(false);
    await cond.withLock(() => cond.notify(4));
    for (let i = 0; i < 4; i++) expect(await woken.acquire({ timeout: 30_000 })).toBe(true);
    for (const p of parties) expect(await ended(p)).toBe(0);
    await cond.withLock(() => cond.notify(3));
    await cond.acquire();
    expect(await cond.wait({ timeout: 50 })).toBe(false);
    cond.release();
  });
});

describe("authentication", () => {
  it("a child process with another authkey cannot reach the parent's broker: a clear error, and the broker keeps serving", async () => {
    // with @ipc/native a Lock is shared memory that a child maps directly (the handle it was given
    // is its authority, as for Python's inherited locks), so the broker is tested without it
    const fixture = fileURLToPath(new URL("./fixtures/auth-scenario.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { env: { ...process.env, IPC_NATIVE: "0" }, timeout: 90_000 });
    expect(JSON.parse(stdout)).toEqual({ wrongKey: 0, rightKey: 0, held: true });
  });
});

describe("a lock holder process killed with SIGKILL", () => {
  it.each([
    ["Lock", () => new Lock()],
    ["RLock", () => new RLock()],
  ] as const)("%s: a waiter (async and sync) takes it over, and it works as before", async (_name, make) => {
    for (const sync of [false, true]) {
      const lock = make();
      const held = new Event();
      const p = start("holdUntilKilled", [lock, held], "process");
      expect(await held.wait({ timeout: 20_000 })).toBe(true);
      expect(lock.locked()).toBe(true);
      p.kill();
      expect(await ended(p)).toBe(-9);
      expect(sync ? lock.acquireSync({ timeout: 20_000 }) : await lock.acquire({ timeout: 20_000 })).toBe(true);
      lock.release();
      expect(lock.locked()).toBe(false);
      expect(lock.tryAcquire()).toBe(true);
      lock.release();
    }
  });
});

describe("handles across contexts", () => {
  it.each([
    ["process", "thread"],
    ["process", "process"],
    ["thread", "process"],
  ] as const)("a %s child hands a lock it received on to a %s grandchild", async (outer, inner) => {
    const lock = new Lock();
    const held = new Event();
    const p = new Process({ module: targets, target: "handOn", args: ["holdAndExit", [lock, held], inner], context: outer });
    p.start();
    expect(await held.wait({ timeout: 20_000 })).toBe(true);
    expect(await ended(p)).toBe(0);
    expect(await ended(p)).toBe(0);
  });
});

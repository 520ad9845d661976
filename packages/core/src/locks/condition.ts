/**
 * Condition: a condition variable over a Lock or RLock (Python's `multiprocessing.Condition`).
 *
 * | word | who writes | meaning |
 * |---|---|---|
 * | 0 `ws` | waiters (register, consume, leave), notifiers | high 16 bits: W, waiters in `wait`; low 16 bits: S, wake-ups handed out and not yet taken |
 * | 1 `seq` | notifiers | bumped by every notify; waiters sleep on it |
 *
 * Protocol: a waiter registers (W += 1) and reads `seq` while it still holds the lock, then
 * releases the lock and sleeps on `seq`. `notify(n)` (lock held) hands out `k = min(n, W - S)`
 * wake-ups (S += k), bumps `seq` and wakes sleepers. A waiter leaves by taking a wake-up
 * (W -= 1, S -= 1 in one compare-exchange), or on timeout by leaving without one (W -= 1) — but
 * if a wake-up is available at that instant it takes it and reports "notified". Because W and S
 * share one word, a wake-up is never handed to a waiter that has already left: a notify with no
 * waiter is not remembered (as Python), and `notify(n)` wakes exactly min(n, waiters).
 *
 * Memory ordering: all updates are seq-cst `Atomics` on `ws`/`seq`; a waiter reads `seq` before
 * checking S, and a notifier bumps `seq` after raising S, so a waiter that found S = 0 either sleeps
 * on the old `seq` (and is woken) or sees the new one (and re-checks).
 */
import { InvalidStateError } from "../errors/errors.js";
import { checkInt, checkSignal, checkTimeout, timeoutArg } from "../errors/validate.js";
import { type Exposed, INTERNAL, registerShared, SharedObject, type SharedInit } from "../objects/shared-object.js";
import { Deadline } from "../memory/deadline.js";
import { allocateWords } from "../memory/shared-words.js";
import { Lock } from "./lock.js";
import type { WaitOptions, WaitSyncOptions } from "./options.js";
import { RLock } from "./rlock.js";

const WS = 0;
const SEQ = 1;
const W_ONE = 1 << 16;
const S_MASK = 0xffff;
const TYPE = "@ipc/core:Condition";

interface Extra {
  lock: Lock | RLock;
}

/** A condition variable shared by threads and processes. */
export class Condition extends SharedObject<Extra> {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  /** The lock this condition uses. */
  declare readonly lock: Lock | RLock;

  /**
   * @param lock the lock to use; default a new **Lock** (Python defaults to an RLock). RLock
   *   ownership is per thread or process, so in Node every async task of one thread would "own"
   *   a default RLock at once and `withLock` would not exclude them; a Lock does.
   */
  constructor(lock?: Lock | RLock);
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<Extra>);
  constructor(lock?: Lock | RLock | typeof INTERNAL, init?: SharedInit<Extra>) {
    let resolved: SharedInit<Extra>;
    if (lock === INTERNAL && init) resolved = init;
    else {
      if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
        throw new TypeError(`Expected \`lock\` to be a Lock or an RLock, got ${typeof lock}`);
      }
      resolved = { kind: "local", words: allocateWords(2), extra: { lock: lock ?? new Lock() } };
    }
    super(resolved);
    Object.defineProperty(this, "lock", { value: resolved.extra.lock, enumerable: false });
  }

  /** Acquires the underlying lock. */
  acquire(opts: WaitOptions = {}): Promise<boolean> {
    return this.lock.acquire(opts);
  }
  /** Acquires the underlying lock, blocking the thread. */
  acquireSync(opts: WaitSyncOptions = {}): boolean {
    return this.lock.acquireSync(opts);
  }
  /** Releases the underlying lock. */
  release(): void {
    this.lock.release();
  }
  /** Runs `fn` holding the underlying lock. */
  withLock<R>(fn: () => R | Promise<R>, opts: WaitOptions = {}): Promise<R> {
    return this.lock.withLock(fn, opts);
  }
  /** Runs `fn` holding the underlying lock, blocking the thread while acquiring. */
  withLockSync<R>(fn: () => R, opts: WaitSyncOptions = {}): R {
    return this.lock.withLockSync(fn, opts);
  }

  /**
   * Releases the lock, waits for a notify (without blocking the event loop), and re-acquires the
   * lock before returning. The caller must hold the lock.
   * @returns true when notified, false on timeout.
   */
  async wait(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    return this.waitAs(this.lock.selfId(), timeout, signal);
  }

  /** As {@link wait}, blocking the calling thread. */
  waitSync(opts: WaitSyncOptions = {}): boolean {
    const timeout = checkTimeout(opts.timeout);
    const { i32, backend } = this.words!;
    const me = this.lock.selfId();
    const depth = this.enter(me);
    const deadline = new Deadline(timeout);
    try {
      for (;;) {
        const turn = this.turn(deadline);
        if (typeof turn === "boolean") return turn;
        backend.wait(i32, SEQ, turn, deadline.remaining());
      }
    } finally {
      if (this.lock instanceof RLock) this.lock.restoreSync(me, depth);
      else this.lock.acquireSync();
    }
  }

  /** Waits until `predicate()` is true (checked with the lock held); returns its last value. */
  async waitFor(predicate: () => boolean, opts: WaitOptions = {}): Promise<boolean> {
    const deadline = new Deadline(checkTimeout(opts.timeout));
    let result = predicate();
    while (!result) {
      const rem = deadline.remaining();
      if (rem <= 0) break;
      await this.wait({ timeout: rem, signal: opts.signal });
      result = predicate();
    }
    return result;
  }

  /** As {@link waitFor}, blocking the calling thread. */
  waitForSync(predicate: () => boolean, opts: WaitSyncOptions = {}): boolean {
    const deadline = new Deadline(checkTimeout(opts.timeout));
    let result = predicate();
    while (!result) {
      const rem = deadline.remaining();
      if (rem <= 0) break;
      this.waitSync({ timeout: rem });
      result = predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters (default 1). The caller must hold the lock. */
  notify(n = 1): void {
    checkInt(n, "n", 0, 0x7fffffff);
    this.notifyAs(this.lock.selfId(), n);
  }

  /** Wakes every waiter. The caller must hold the lock. */
  notifyAll(): void {
    this.notify(0x7fffffff);
  }

  private owns(owner: number): boolean {
    return this.lock instanceof RLock ? this.lock.isOwnedBy(owner) : this.lock.locked();
  }

  /** Registers as a waiter and releases the lock; returns the RLock depth to restore. */
  private enter(owner: number): number {
    if (!this.owns(owner)) throw new InvalidStateError("cannot wait on un-acquired lock");
    Atomics.add(this.words!.i32, WS, W_ONE);
    if (this.lock instanceof RLock) return this.lock.releaseAllAs(owner);
    this.lock.releaseAs();
    return 1;
  }

  /** Takes a handed-out wake-up if there is one. */
  private take(): boolean {
    const i32 = this.words!.i32;
    for (;;) {
      const v = Atomics.load(i32, WS);
      if ((v & S_MASK) === 0) return false;
      if (Atomics.compareExchange(i32, WS, v, v - W_ONE - 1) === v) return true;
    }
  }

  /** Leaves after a timeout; takes a wake-up instead if one is there (returns true then). */
  private leave(): boolean {
    const i32 = this.words!.i32;
    for (;;) {
      const v = Atomics.load(i32, WS);
      const withWake = (v & S_MASK) > 0;
      if (Atomics.compareExchange(i32, WS, v, v - W_ONE - (withWake ? 1 : 0)) === v) return withWake;
    }
  }

  /**
   * One turn of a waiter's loop: true when it took a wake-up, false when its deadline passed (and it
   * left), else the `seq` value to sleep on. Read `seq` before checking for a wake-up: see the header.
   */
  private turn(deadline: Deadline): boolean | number {
    const seq = Atomics.load(this.words!.i32, SEQ);
    if (this.take()) return true;
    if (deadline.expired()) return this.leave();
    return seq;
  }

  /** @internal */
  async waitAs(owner: number, timeout: number, signal?: AbortSignal): Promise<boolean> {
    const { i32, backend } = this.words!;
    const depth = this.enter(owner);
    const deadline = new Deadline(timeout);
    try {
      for (;;) {
        const turn = this.turn(deadline);
        if (typeof turn === "boolean") return turn;
        try {
          await backend.waitAsync(i32, SEQ, turn, deadline.remaining(), signal);
        } catch (e) {
          // aborted: leave (passing on a wake-up we may have been handed) and re-throw
          if (this.leave()) this.notifyUnlocked(1);
          throw e;
        }
      }
    } finally {
      if (this.lock instanceof RLock) await this.lock.restoreAs(owner, depth);
      else await this.lock.acquireAs(owner, Infinity);
    }
  }

  /** @internal */
  notifyAs(owner: number, n: number): void {
    if (!this.owns(owner)) throw new InvalidStateError("cannot notify on un-acquired lock");
    this.notifyUnlocked(n);
  }

  private notifyUnlocked(n: number): void {
    const { i32, backend } = this.words!;
    for (;;) {
      const v = Atomics.load(i32, WS);
      const waiting = v >>> 16;
      const handed = v & S_MASK;
      const k = Math.min(n, waiting - handed);
      if (k <= 0) return;
      if (Atomics.compareExchange(i32, WS, v, v + k) === v) break;
    }
    Atomics.add(i32, SEQ, 1);
    backend.notify(i32, SEQ);
  }

  /** The methods a process that holds this Condition remotely calls (see SharedObject#serve). */
  static readonly exposed: Exposed<Condition> = {
    wait: (c, args, call) => c.waitAs(call.owner, timeoutArg(args, 0), call.signal),
    notify: (c, args, call) => c.notifyAs(call.owner, checkInt(args[0] ?? 1, "n", 0, 0x7fffffff)),
  };

  protected override handleExtra(): Extra {
    return { lock: this.lock };
  }
}

registerShared<Extra>(TYPE, (init) => new Condition(INTERNAL, init));

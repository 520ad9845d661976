/**
 * RLock: a re-entrant mutex owned by one isolate (a thread or a process) at a time; only the owner
 * may release it (Python's `multiprocessing.RLock`).
 *
 * | word | who writes | meaning |
 * |---|---|---|
 * | 0 `state` | acquirers, releaser | futex mutex (see futex-mutex.ts) |
 * | 1 `owner` | the owner | owner id, 0 when free |
 * | 2 `count` | the owner | recursion depth |
 *
 * Memory ordering: `owner` and `count` change only while the mutex is held. A thread reading
 * `owner === me` can only see its own earlier store (no other party stores its id), so the
 * re-entrant fast path needs no lock. `count` is only ever read and written by the owner, so it is
 * a plain word (the mutex's acquire and release order it for the next owner); `owner` is read by
 * waiters (the dead-owner check) and stays atomic.
 */
import { InvalidStateError } from "../errors/errors.js";
import { checkSignal, checkTimeout, timeoutArg } from "../errors/validate.js";
import { type Exposed, INTERNAL, registerShared, SharedObject, type SharedInit } from "../objects/shared-object.js";
import { Deadline } from "../memory/deadline.js";
import { localOwnerId } from "../memory/isolate-id.js";
import { allocateWords } from "../memory/shared-words.js";
import { lockMutexAsync, lockMutexSync, lockOwnedAsync, lockOwnedSync, tryLockMutex, unlockMutex } from "./futex-mutex.js";
import type { WaitOptions, WaitSyncOptions } from "./options.js";
import { runWithLock, runWithLockSync } from "./with-lock.js";

const STATE = 0;
const OWNER = 1;
const COUNT = 2;
const TYPE = "@ipc/core:RLock";

/** A re-entrant lock: the owning thread or process may acquire it again; only the owner may release. */
export class RLock extends SharedObject<null> {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  constructor();
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<null>);
  constructor(token?: typeof INTERNAL, init?: SharedInit<null>) {
    super(token === INTERNAL && init ? init : { kind: "local", words: allocateWords(3), extra: null });
  }

  /** Acquires (or re-enters) the lock without blocking the event loop; false on timeout. */
  async acquire(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    return this.acquireAs(this.selfId(), timeout, signal);
  }

  /** Acquires (or re-enters) the lock, blocking the calling thread; false on timeout. */
  acquireSync(opts: WaitSyncOptions = {}): boolean {
    const timeout = checkTimeout(opts.timeout);
    const i32 = this.words!.i32;
    const me = this.selfId();
    if (this.reenter(me)) return true;
    // uncontended: one compare-exchange, no deadline
    if (!tryLockMutex(i32, STATE) && !lockOwnedSync(i32, STATE, OWNER, me, this.words!.backend, new Deadline(timeout))) return false;
    this.own(me);
    return true;
  }

  /** Acquires only if free or already ours. */
  tryAcquire(): boolean {
    return this.tryAs(this.selfId());
  }

  /** Releases one level. @throws InvalidStateError when the caller is not the owner. */
  release(): void {
    this.releaseAs(this.selfId());
  }

  /** True while any owner holds the lock. */
  locked(): boolean {
    return Atomics.load(this.words!.i32, STATE) !== 0;
  }

  /** Runs `fn` holding the lock. */
  withLock<R>(fn: () => R | Promise<R>, opts: WaitOptions = {}): Promise<R> {
    return runWithLock(this, fn, opts);
  }

  /** Runs `fn` holding the lock, blocking the thread while acquiring. */
  withLockSync<R>(fn: () => R, opts: WaitSyncOptions = {}): R {
    return runWithLockSync(this, fn, opts);
  }

  private reenter(owner: number): boolean {
    const i32 = this.words!.i32;
    if (Atomics.load(i32, OWNER) !== owner) return false;
    i32[COUNT]++;
    return true;
  }

  private own(owner: number, count = 1): void {
    const i32 = this.words!.i32;
    i32[COUNT] = count;
    Atomics.store(i32, OWNER, owner);
  }

  /** @internal */
  async acquireAs(owner: number, timeout: number, signal?: AbortSignal): Promise<boolean> {
    if (this.reenter(owner)) return true;
    const w = this.words!;
    if (!(await lockOwnedAsync(w.i32, STATE, OWNER, owner, w.backend, new Deadline(timeout), signal))) return false;
    this.own(owner);
    return true;
  }

  /** @internal */
  tryAs(owner: number): boolean {
    if (this.reenter(owner)) return true;
    if (!tryLockMutex(this.words!.i32, STATE)) return false;
    this.own(owner);
    return true;
  }

  /** @internal */
  releaseAs(owner: number): void {
    const i32 = this.words!.i32;
    const depth = i32[COUNT];
    if (Atomics.load(i32, OWNER) !== owner || depth <= 0) throw new InvalidStateError("cannot release un-acquired lock");
    i32[COUNT] = depth - 1;
    if (depth === 1) {
      Atomics.store(i32, OWNER, 0);
      unlockMutex(i32, STATE, this.words!.backend);
    }
  }

  /** @internal release every level (Condition.wait); returns the depth to restore. */
  releaseAllAs(owner: number): number {
    const i32 = this.words!.i32;
    if (Atomics.load(i32, OWNER) !== owner) throw new InvalidStateError("cannot release un-acquired lock");
    const depth = i32[COUNT];
    i32[COUNT] = 0;
    Atomics.store(i32, OWNER, 0);
    unlockMutex(i32, STATE, this.words!.backend);
    return depth;
  }

  /** @internal re-acquire after releaseAllAs, restoring the depth. */
  async restoreAs(owner: number, depth: number): Promise<void> {
    const w = this.words!;
    await lockMutexAsync(w.i32, STATE, w.backend, new Deadline(Infinity));
    this.own(owner, depth);
  }

  /** @internal */
  restoreSync(owner: number, depth: number): void {
    const w = this.words!;
    lockMutexSync(w.i32, STATE, w.backend, new Deadline(Infinity));
    this.own(owner, depth);
  }

  /** @internal true when `owner` holds it. */
  isOwnedBy(owner: number): boolean {
    return Atomics.load(this.words!.i32, OWNER) === owner;
  }

  /** The methods a process that holds this RLock remotely calls (see SharedObject#serve). */
  static readonly exposed: Exposed<RLock> = {
    acquire: (l, args, call) => l.acquireAs(call.owner, timeoutArg(args, 0), call.signal),
    tryAcquire: (l, _args, call) => l.tryAs(call.owner),
    release: (l, _args, call) => l.releaseAs(call.owner),
    locked: (l) => l.locked(),
  };

  override releaseOwner(owner: number): void {
    if (this.isOwnedBy(owner)) this.releaseAllAs(owner);
  }

  /** @internal the id this thread acquires under: its owner id in the lock's memory. */
  selfId(): number {
    return this.words ? this.words.backend.owner : localOwnerId;
  }

  override toString(): string {
    const owner = Atomics.load(this.words!.i32, OWNER);
    const count = Atomics.load(this.words!.i32, COUNT);
    return `<RLock(${owner === 0 ? "None" : owner === this.selfId() ? "self" : "other"}, ${count})>`;
  }
}

registerShared<null>(TYPE, (init) => new RLock(INTERNAL, init));

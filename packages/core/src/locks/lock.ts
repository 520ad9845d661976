/**
 * Lock: a non-recursive mutex that any holder may release (Python's `multiprocessing.Lock`).
 *
 * | word | who writes | meaning |
 * |---|---|---|
 * | 0 `state` | acquirers, releaser | futex mutex: 0 free · 1 held · 2 held, maybe waiters (see futex-mutex.ts) |
 * | 1 `owner` | the acquirer after acquiring; the releaser before releasing | owner id of the last acquirer, 0 when free |
 *
 * Memory ordering: `owner` is written only while the mutex is held, with `Atomics.store`, and is
 * advisory (release by a non-owner is allowed, as in Python); the broker uses it to release a lock
 * whose holder process died.
 */
import { IpcError } from "../errors/errors.js";
import { checkSignal, checkTimeout, timeoutArg } from "../errors/validate.js";
import { type Exposed, INTERNAL, registerShared, SharedObject, type SharedInit } from "../objects/shared-object.js";
import { Deadline } from "../memory/deadline.js";
import { localOwnerId } from "../memory/isolate-id.js";
import { allocateWords } from "../memory/shared-words.js";
import { lockOwnedAsync, lockOwnedSync, tryLockMutex, unlockMutex } from "./futex-mutex.js";
import type { WaitOptions, WaitSyncOptions } from "./options.js";
import { runWithLock, runWithLockSync } from "./with-lock.js";

const STATE = 0;
const OWNER = 1;
const TYPE = "@ipc/core:Lock";

/** A mutex shared by threads and processes; any holder may release it, as in Python. */
export class Lock extends SharedObject<null> {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  constructor();
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<null>);
  constructor(token?: typeof INTERNAL, init?: SharedInit<null>) {
    super(token === INTERNAL && init ? init : { kind: "local", words: allocateWords(2), extra: null });
  }

  /**
   * Acquires the lock without blocking the event loop.
   * @returns true when acquired, false when `timeout` passed first.
   */
  async acquire(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    if (this.tryAcquire()) return true;
    return this.acquireAs(this.selfId(), timeout, signal);
  }

  /** Acquires the lock, blocking the calling thread (and its event loop) while waiting. */
  acquireSync(opts: WaitSyncOptions = {}): boolean {
    const timeout = checkTimeout(opts.timeout);
    const w = this.words!;
    const me = w.backend.owner;
    // uncontended: one compare-exchange, no deadline
    if (!tryLockMutex(w.i32, STATE) && !lockOwnedSync(w.i32, STATE, OWNER, me, w.backend, new Deadline(timeout))) return false;
    Atomics.store(w.i32, OWNER, me);
    return true;
  }

  /** Acquires only if free right now (Python `acquire(block=False)`). */
  tryAcquire(): boolean {
    const w = this.words!;
    if (!tryLockMutex(w.i32, STATE)) return false;
    Atomics.store(w.i32, OWNER, w.backend.owner);
    return true;
  }

  /** Releases the lock. Any thread or process may release it. @throws IpcError when not locked. */
  release(): void {
    this.releaseAs();
  }

  /** True while someone holds the lock. */
  locked(): boolean {
    return Atomics.load(this.words!.i32, STATE) !== 0;
  }

  /** Runs `fn` holding the lock (Python's `with lock:`), releasing it however `fn` ends. */
  withLock<R>(fn: () => R | Promise<R>, opts: WaitOptions = {}): Promise<R> {
    return runWithLock(this, fn, opts);
  }

  /** Runs `fn` holding the lock, blocking the thread while acquiring. */
  withLockSync<R>(fn: () => R, opts: WaitSyncOptions = {}): R {
    return runWithLockSync(this, fn, opts);
  }

  /** @internal acquire on behalf of `owner` (local or broker side). */
  async acquireAs(owner: number, timeout: number, signal?: AbortSignal): Promise<boolean> {
    const w = this.words!;
    if (!(await lockOwnedAsync(w.i32, STATE, OWNER, owner, w.backend, new Deadline(timeout), signal))) return false;
    Atomics.store(w.i32, OWNER, owner);
    return true;
  }

  /** @internal */
  releaseAs(): void {
    const w = this.words!;
    const prev = Atomics.exchange(w.i32, OWNER, 0);
    if (!unlockMutex(w.i32, STATE, w.backend)) {
      Atomics.compareExchange(w.i32, OWNER, 0, prev);
      throw new IpcError("release unlocked lock");
    }
  }

  /** @internal the owner id of the last acquirer, 0 when free. */
  ownerId(): number {
    return Atomics.load(this.words!.i32, OWNER);
  }

  /** The methods a process that holds this Lock remotely calls (see SharedObject#serve and remote-class.ts). */
  static readonly exposed: Exposed<Lock> = {
    acquire: (l, args, call) => l.acquireAs(call.owner, timeoutArg(args, 0), call.signal),
    tryAcquire: (l, _args, call) => {
      if (!tryLockMutex(l.words!.i32, STATE)) return false;
      Atomics.store(l.words!.i32, OWNER, call.owner);
      return true;
    },
    release: (l) => l.releaseAs(),
    locked: (l) => l.locked(),
  };

  override releaseOwner(owner: number): void {
    if (this.ownerId() === owner) this.releaseAs();
  }

  /** @internal the id this thread acquires under: its owner id in the lock's memory. */
  selfId(): number {
    return this.words ? this.words.backend.owner : localOwnerId;
  }

  override toString(): string {
    const owner = this.remote ? "remote" : this.ownerId() === 0 ? "None" : this.ownerId() === this.selfId() ? "self" : "other";
    return `<Lock(owner=${owner})>`;
  }
}

registerShared<null>(TYPE, (init) => new Lock(INTERNAL, init));

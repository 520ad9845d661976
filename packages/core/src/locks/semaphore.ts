/**
 * Semaphore and BoundedSemaphore (Python's `multiprocessing.Semaphore` / `BoundedSemaphore`).
 *
 * | word | who writes | meaning |
 * |---|---|---|
 * | 0 `value` | acquirers (CAS down), releasers (add) | current value, never negative |
 * | 1 `sleepers` | waiters around their sleep | number of parties that may be asleep on `value` |
 * | 2 `bound` | constructor | initial value for a BoundedSemaphore, -1 for unbounded |
 *
 * Memory ordering: an acquirer registers in `sleepers` *before* sleeping on `value` while it
 * reads 0; a releaser adds to `value` *before* reading `sleepers`. Both are seq-cst, so either the
 * releaser sees the sleeper and notifies, or the sleeper sees the new value and does not sleep.
 */
import { InvalidStateError } from "../errors/errors.js";
import { checkInt, checkSignal, checkTimeout, timeoutArg } from "../errors/validate.js";
import { type Exposed, INTERNAL, registerShared, SharedObject, type SharedInit } from "../objects/shared-object.js";
import { Deadline } from "../memory/deadline.js";
import { allocateWords } from "../memory/shared-words.js";
import type { WaitOptions, WaitSyncOptions } from "./options.js";
import { runWithLock, runWithLockSync } from "./with-lock.js";

const VALUE = 0;
const SLEEPERS = 1;
const BOUND = 2;

function make(value: unknown, bounded: boolean): SharedInit<null> {
  const v = checkInt(value, "value", 0, 0x7fffffff);
  const words = allocateWords(3);
  Atomics.store(words.i32, VALUE, v);
  Atomics.store(words.i32, BOUND, bounded ? v : -1);
  return { kind: "local", words, extra: null };
}

/** A counting semaphore shared by threads and processes. */
export class Semaphore extends SharedObject<null> {
  /** Handle type name. */
  static readonly handleType: string = "@ipc/core:Semaphore";
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  /** @param value initial value, default 1. */
  constructor(value?: number);
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<null>);
  constructor(value: number | typeof INTERNAL = 1, init?: SharedInit<null>) {
    super(value === INTERNAL && init ? init : make(value, false));
  }

  /** Decrements the value, waiting (without blocking the event loop) while it is 0; false on timeout. */
  async acquire(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    return this.acquireLocal(timeout, signal);
  }

  /** Decrements the value, blocking the calling thread while it is 0; false on timeout. */
  acquireSync(opts: WaitSyncOptions = {}): boolean {
    const timeout = checkTimeout(opts.timeout);
    const { i32, backend } = this.words!;
    const deadline = new Deadline(timeout);
    for (;;) {
      if (this.tryAcquire()) return true;
      const rem = deadline.remaining();
      if (rem <= 0) return false;
      Atomics.add(i32, SLEEPERS, 1);
      try {
        backend.wait(i32, VALUE, 0, rem);
      } finally {
        Atomics.sub(i32, SLEEPERS, 1);
      }
    }
  }

  /** Decrements only if the value is above 0 right now. */
  tryAcquire(): boolean {
    const i32 = this.words!.i32;
    for (;;) {
      const v = Atomics.load(i32, VALUE);
      if (v <= 0) return false;
      if (Atomics.compareExchange(i32, VALUE, v, v - 1) === v) return true;
    }
  }

  /** Increments the value by `n` (default 1), waking up to `n` waiters. */
  release(n = 1): void {
    checkInt(n, "n", 1, 0x7fffffff);
    const { i32, backend } = this.words!;
    const bound = Atomics.load(i32, BOUND);
    for (;;) {
      const v = Atomics.load(i32, VALUE);
      if (bound >= 0 && v + n > bound) throw new InvalidStateError("Semaphore released too many times");
      if (v + n > 0x7fffffff) throw new RangeError("Semaphore value would overflow");
      if (Atomics.compareExchange(i32, VALUE, v, v + n) === v) break;
    }
    if (Atomics.load(i32, SLEEPERS) > 0) backend.notify(i32, VALUE, n);
  }

  /** The current value (approximate while others use it). */
  getValue(): number {
    return Atomics.load(this.words!.i32, VALUE);
  }

  /** Runs `fn` holding one unit. */
  withLock<R>(fn: () => R | Promise<R>, opts: WaitOptions = {}): Promise<R> {
    return runWithLock(this, fn, opts);
  }

  /** Runs `fn` holding one unit, blocking the thread while acquiring. */
  withLockSync<R>(fn: () => R, opts: WaitSyncOptions = {}): R {
    return runWithLockSync(this, fn, opts);
  }

  private async acquireLocal(timeout: number, signal?: AbortSignal): Promise<boolean> {
    const { i32, backend } = this.words!;
    const deadline = new Deadline(timeout);
    for (;;) {
      if (this.tryAcquire()) return true;
      const rem = deadline.remaining();
      if (rem <= 0) return false;
      Atomics.add(i32, SLEEPERS, 1);
      try {
        await backend.waitAsync(i32, VALUE, 0, rem, signal);
      } finally {
        Atomics.sub(i32, SLEEPERS, 1);
      }
    }
  }

  /** The methods a process that holds this Semaphore remotely calls (see SharedObject#serve). */
  static readonly exposed: Exposed<Semaphore> = {
    acquire: (s, args, call) => s.acquireLocal(timeoutArg(args, 0), call.signal),
    tryAcquire: (s) => s.tryAcquire(),
    release: (s, args) => s.release(args[0] as number | undefined),
    getValue: (s) => s.getValue(),
  };

  override toString(): string {
    return `<${this.constructor.name}(value=${this.remote ? "?" : this.getValue()})>`;
  }
}

/** A semaphore that refuses to be released above its initial value. */
export class BoundedSemaphore extends Semaphore {
  /** @param value initial value and upper bound, default 1. */
  constructor(value?: number);
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<null>);
  constructor(value: number | typeof INTERNAL = 1, init?: SharedInit<null>) {
    super(INTERNAL, value === INTERNAL && init ? init : make(value, true));
  }
  static override readonly handleType: string = "@ipc/core:BoundedSemaphore";
}

registerShared<null>("@ipc/core:Semaphore", (init) => new Semaphore(INTERNAL, init));
registerShared<null>("@ipc/core:BoundedSemaphore", (init) => new BoundedSemaphore(INTERNAL, init));

/** The proxies of a manager's Lock, RLock, Semaphore, BoundedSemaphore and Condition. */
import { TimeoutError } from "@ipc/core";
import { BaseProxy } from "../base-proxy.js";
import type { ProxyWaitOptions } from "./wait-options.js";

/** What Lock, Semaphore and Condition proxies share: acquiring, and running code while holding. */
abstract class AcquirableProxy extends BaseProxy {
  /** Acquires, waiting up to `timeout` ms (`blocking: false`: not at all); false when it could not. */
  acquire(opts: ProxyWaitOptions & { blocking?: boolean } = {}): Promise<boolean> {
    return this.callMethod("acquire", [opts.blocking !== false, opts.timeout], opts.signal) as Promise<boolean>;
  }

  /** Gives back what `acquire` took. */
  abstract release(): Promise<void>;

  /** Runs `fn` between `acquire` and `release`. @throws TimeoutError when `timeout` passed first. */
  async withLock<R>(fn: () => R | Promise<R>, opts: ProxyWaitOptions = {}): Promise<R> {
    if (!(await this.acquire(opts))) throw new TimeoutError("withLock: timed out acquiring the lock");
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }
}

/**
 * A manager Lock or RLock. The holder is this thread's connection to the manager: an RLock is
 * re-entered by it, and a client that ends or is killed while holding either lets go of it.
 */
export class LockProxy extends AcquirableProxy {
  /** @throws InvalidStateError when it is not held (an RLock: not held by this thread). */
  release(): Promise<void> {
    return this.callMethod("release") as Promise<void>;
  }
  locked(): Promise<boolean> {
    return this.callMethod("locked") as Promise<boolean>;
  }
}

/** A manager Semaphore or BoundedSemaphore. */
export class SemaphoreProxy extends AcquirableProxy {
  /** Gives `n` back. @throws InvalidStateError past a BoundedSemaphore's initial value. */
  release(n = 1): Promise<void> {
    return this.callMethod("release", [n]) as Promise<void>;
  }
  getValue(): Promise<number> {
    return this.callMethod("getValue") as Promise<number>;
  }
}

/**
 * A manager Condition (over a new RLock, or a Lock/RLock proxy of the same manager). No `waitFor`:
 * a predicate is code, which a manager never receives; loop over `wait`.
 */
export class ConditionProxy extends AcquirableProxy {
  release(): Promise<void> {
    return this.callMethod("release") as Promise<void>;
  }
  /**
   * Releases the lock, waits for a notify (or `timeout`), and holds the lock again when it returns
   * (even when cancelled). False on timeout. @throws InvalidStateError without the lock.
   */
  wait(opts: ProxyWaitOptions = {}): Promise<boolean> {
    return this.callMethod("wait", [opts.timeout], opts.signal) as Promise<boolean>;
  }
  /** Wakes up to `n` waiters. @throws InvalidStateError without the lock. */
  notify(n = 1): Promise<void> {
    return this.callMethod("notify", [n]) as Promise<void>;
  }
  notifyAll(): Promise<void> {
    return this.callMethod("notifyAll") as Promise<void>;
  }
}

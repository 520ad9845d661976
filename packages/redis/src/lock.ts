/** Lock on Redis: a Semaphore of one permit, whose holder is the object that acquired it. */
import { Semaphore, type SemaphoreOptions } from "./semaphore.js";
import { registerRedisHandle } from "./handle.js";

/** Options of a Redis {@link Lock}. */
export type LockOptions = Omit<SemaphoreOptions, "value">;

/**
 * A mutual-exclusion lock shared by every client that names it, as Python's `Lock` across
 * machines. Its holder renews a lease while it holds it: a holder that dies frees the lock after
 * `leaseMs` (Python's lock would stay held forever). What one Redis instance guarantees, and what it
 * does not (a failover can lose a lock), is in the package README.
 */
export class Lock extends Semaphore {
  constructor(opts: LockOptions) {
    super({ ...opts, value: 1 });
  }

  /** True while some client holds the lock. */
  async locked(): Promise<boolean> {
    return (await this.getValue()) === 0;
  }
}

registerRedisHandle("Lock", (state) => new Lock(state as never));

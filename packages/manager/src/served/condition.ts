/**
 * The Condition a manager serves, over one of its Locks or RLocks (a new RLock by default, as
 * Python's). `wait` releases the lock, parks until notified (or its timeout), and takes the lock
 * back before it returns. There is no `waitFor`: a predicate is code, and a manager runs no code a
 * client sends; loop over `wait` instead.
 */
import { InvalidStateError } from "@ipc/core";
import { checkTimeout } from "@ipc/core/internal";
import { RELEASE, type CallContext, type HoldsForClients, type Served } from "./call-context.js";
import { ManagedLock } from "./lock.js";
import { Waiters } from "./waiters.js";

/** A condition variable held by the server. */
export class ManagedCondition implements HoldsForClients {
  readonly #waiters = new Waiters();
  readonly lock: ManagedLock;

  constructor(lock?: ManagedLock) {
    this.lock = lock ?? new ManagedLock(true);
  }

  async #wait(timeout: number, ctx: CallContext): Promise<boolean> {
    if (!this.lock.ownedBy(ctx.client)) throw new InvalidStateError("cannot wait on un-acquired lock");
    const depth = this.lock.releaseAll(ctx.client);
    try {
      return await this.#waiters.park(timeout, ctx.signal);
    } finally {
      await this.lock.restore(depth, ctx);
    }
  }

  #notify(n: number, ctx: CallContext): void {
    if (!this.lock.ownedBy(ctx.client)) throw new InvalidStateError("cannot notify on un-acquired lock");
    for (let i = 0; i < n && this.#waiters.wakeOne(); i++);
  }

  /** Methods a condition proxy may call: its lock's, and waiting and notifying. */
  static readonly exposed: Served<ManagedCondition> = {
    acquire: (c, args, ctx) => ManagedLock.exposed.acquire(c.lock, args, ctx),
    release: (c, args, ctx) => ManagedLock.exposed.release(c.lock, args, ctx),
    locked: (c, args, ctx) => ManagedLock.exposed.locked(c.lock, args, ctx),
    wait: (c, args, ctx) => c.#wait(checkTimeout(args[0]), ctx),
    notify: (c, args, ctx) => {
      const n = args[0] === undefined ? 1 : args[0];
      if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
      c.#notify(n, ctx);
    },
    notifyAll: (c, _args, ctx) => c.#notify(Infinity, ctx),
  };

  [RELEASE](client: number): void {
    this.lock.releaseAll(client);
  }
}

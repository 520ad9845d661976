/**
 * The Condition a manager serves, over one of its Locks or RLocks (a new RLock by default, as
 * Python's). `wait` releases the lock, parks until notified (or its timeout), and takes the lock
 * back before it returns. There is no `waitFor`: a predicate is code, and a manager runs no code a
 * client sends; loop over `wait` instead.
 */
import { InvalidStateError } from "@ipc/core";
import { checkTimeout } from "@ipc/core/internal";
import { CALL, RELEASE, type CallContext, type ContextualObject } from "./call-context.js";
import { ManagedLock } from "./lock.js";
import { Waiters } from "./waiters.js";

/** Methods a condition proxy may call. */
export const CONDITION_EXPOSED = ["acquire", "release", "locked", "wait", "notify", "notifyAll"] as const;

/** A condition variable held by the server. */
export class ManagedCondition implements ContextualObject {
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

  [CALL](method: string, args: unknown[], ctx: CallContext): unknown {
    switch (method) {
      case "acquire":
      case "release":
      case "locked":
        return this.lock[CALL](method, args, ctx);
      case "wait":
        return this.#wait(checkTimeout(args[0]), ctx);
      case "notify":
      case "notifyAll": {
        if (!this.lock.ownedBy(ctx.client)) throw new InvalidStateError("cannot notify on un-acquired lock");
        if (method === "notifyAll") this.#waiters.wakeAll();
        else {
          const n = args[0] === undefined ? 1 : args[0];
          if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new RangeError("n must be a non-negative integer");
          for (let i = 0; i < n && this.#waiters.wakeOne(); i++);
        }
        return undefined;
      }
      default:
        throw new InvalidStateError(`Condition has no method ${method}`);
    }
  }

  [RELEASE](client: number): void {
    this.lock.releaseAll(client);
  }
}

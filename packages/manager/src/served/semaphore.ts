/**
 * The Semaphore and BoundedSemaphore a manager serves. Semaphores have no owner (any client may
 * release), so a client that disconnects keeps its acquisitions counted, as in Python.
 */
import { InvalidStateError } from "@ipc/core";
import { checkTimeout } from "@ipc/core/internal";
import { CALL, type CallContext, type ContextualObject } from "./call-context.js";
import { waitUntil, Waiters } from "./waiters.js";

/** Methods a semaphore proxy may call. */
export const SEMAPHORE_EXPOSED = ["acquire", "release", "getValue"] as const;

/** A counting semaphore held by the server; `bounded`: releases past the initial value are errors. */
export class ManagedSemaphore implements ContextualObject {
  #value: number;
  readonly #initial: number;
  readonly #available = new Waiters();

  constructor(
    value: unknown = 1,
    readonly bounded = false,
  ) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new RangeError(`semaphore initial value must be >= 0, got ${String(value)}`);
    this.#value = value;
    this.#initial = value;
  }

  #try(): boolean {
    if (this.#value === 0) return false;
    this.#value--;
    return true;
  }

  [CALL](method: string, args: unknown[], ctx: CallContext): unknown {
    switch (method) {
      case "acquire":
        if (this.#try()) return true;
        return waitUntil(() => this.#try(), this.#available, args[0] === false ? 0 : checkTimeout(args[1]), ctx.signal);
      case "release": {
        const n = args[0] === undefined ? 1 : args[0];
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1) throw new RangeError("n must be one or more");
        if (this.bounded && this.#value + n > this.#initial) throw new InvalidStateError("Semaphore released too many times");
        this.#value += n;
        for (let i = 0; i < n; i++) this.#available.wakeOne();
        return undefined;
      }
      case "getValue":
        return this.#value;
      default:
        throw new InvalidStateError(`Semaphore has no method ${method}`);
    }
  }
}

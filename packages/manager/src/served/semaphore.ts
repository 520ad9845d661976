/**
 * The Semaphore and BoundedSemaphore a manager serves. Semaphores have no owner (any client may
 * release), so a client that disconnects keeps its acquisitions counted, as in Python.
 */
import { InvalidStateError } from "@ipc/core";
import { checkTimeout } from "@ipc/core/internal";
import type { Served } from "./call-context.js";
import { waitUntil, Waiters } from "./waiters.js";

/** A counting semaphore held by the server; `bounded`: releases past the initial value are errors. */
export class ManagedSemaphore {
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

  /** Methods a semaphore proxy may call. */
  static readonly exposed: Served<ManagedSemaphore> = {
    acquire: (s, args, ctx) => (s.#try() ? true : waitUntil(() => s.#try(), s.#available, args[0] === false ? 0 : checkTimeout(args[1]), ctx.signal)),
    release: (s, args) => {
      const n = args[0] === undefined ? 1 : args[0];
      if (typeof n !== "number" || !Number.isInteger(n) || n < 1) throw new RangeError("n must be one or more");
      if (s.bounded && s.#value + n > s.#initial) throw new InvalidStateError("Semaphore released too many times");
      s.#value += n;
      for (let i = 0; i < n; i++) s.#available.wakeOne();
    },
    getValue: (s) => s.#value,
  };
}

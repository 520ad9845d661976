/** A pending async call with a deadline and an optional AbortSignal: the unit every wait queue holds. */
import { abortReason } from "@ipc/core/internal";

/** One waiting call: settle it once; `onAbort` runs when its signal fires first. */
export class Waiter<T> {
  readonly promise: Promise<T>;
  readonly deadline: number;
  settled = false;
  #resolve!: (v: T) => void;
  #reject!: (e: unknown) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: () => void;

  constructor(timeout: number, signal: AbortSignal | undefined, onAbort: (w: Waiter<T>) => void) {
    this.deadline = performance.now() + timeout;
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#signal = signal;
    this.#onAbort = () => {
      if (this.settled) return;
      this.reject(abortReason(signal!));
      onAbort(this);
    };
    // a signal that fired while the call was on its way here: abort once the caller has queued the waiter
    if (signal?.aborted) queueMicrotask(this.#onAbort);
    else signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Milliseconds left (Infinity for no deadline). */
  left(): number {
    return this.deadline - performance.now();
  }

  resolve(v: T): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#resolve(v);
    return true;
  }

  reject(e: unknown): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#reject(e);
    return true;
  }
}

/** Longest single blocking command (s): a wait is cut into slices so that it re-checks state it cannot be woken for. */
export const BLOCK_SLICE_MS = 2_000;

/** A blocking timeout in seconds for Redis (0 would mean forever). */
export function blockSeconds(leftMs: number): number {
  return Math.max(0.001, Math.min(leftMs, BLOCK_SLICE_MS) / 1000);
}

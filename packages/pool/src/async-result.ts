/** AsyncResult: the handle of a task submitted with `applyAsync`/`mapAsync`, as Python's. */
import { InvalidStateError, TimeoutError } from "@ipc/core";
import { abortReason, checkSignal, checkTimeout } from "@ipc/core/internal";

/** Options of {@link AsyncResult.get} and {@link AsyncResult.wait}. */
export interface ResultWaitOptions {
  /** Milliseconds; omitted waits forever. */
  timeout?: number;
  /** Stops the wait, rejecting with its reason (the task runs on). */
  signal?: AbortSignal;
}

/** The eventual result of a task. */
export class AsyncResult<R> {
  #settled = false;
  #ok = false;
  readonly #promise: Promise<R>;

  /** @internal */
  constructor(promise: Promise<R>) {
    this.#promise = promise.then(
      (v) => {
        this.#settled = true;
        this.#ok = true;
        return v;
      },
      (e) => {
        this.#settled = true;
        throw e;
      },
    );
    // a result nobody asks for must not become an unhandled rejection
    this.#promise.catch(() => {});
  }

  /**
   * The result; rejects with the task's error. With `timeout` (ms), rejects with TimeoutError
   * when it passes first; with `signal`, with its reason when it is aborted first. Either way the
   * task keeps running, as in Python (to cancel a task, give the signal when submitting it).
   */
  get(opts: ResultWaitOptions = {}): Promise<R> {
    let timeout: number;
    let signal: AbortSignal | undefined;
    try {
      timeout = checkTimeout(opts.timeout);
      signal = checkSignal(opts.signal);
    } catch (e) {
      return Promise.reject(e);
    }
    if (timeout === Infinity && !signal) return this.#promise;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      if (timeout !== Infinity) timer = setTimeout(() => reject(new TimeoutError(`no result within ${timeout} ms`)), Math.min(timeout, 0x7fffffff));
      if (signal) {
        onAbort = () => reject(abortReason(signal));
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
    return Promise.race([this.#promise, stopped]).finally(() => {
      clearTimeout(timer);
      if (onAbort) signal!.removeEventListener("abort", onAbort);
    });
  }

  /** Waits until the result is ready (or `timeout` ms pass, or `signal` is aborted); never rejects. */
  async wait(opts: ResultWaitOptions = {}): Promise<void> {
    await this.get(opts).catch(() => {});
  }

  /** True once the task has finished (successfully or not). */
  ready(): boolean {
    return this.#settled;
  }

  /** True when the task finished without error. @throws InvalidStateError before it is ready. */
  successful(): boolean {
    if (!this.#settled) throw new InvalidStateError("the result is not ready");
    return this.#ok;
  }
}

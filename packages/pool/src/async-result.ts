/** AsyncResult: the handle of a task submitted with `applyAsync`/`mapAsync`, as Python's. */
import { InvalidStateError, TimeoutError } from "@ipc/core";

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
   * when it passes first — the task keeps running, as in Python.
   */
  get(opts: { timeout?: number } = {}): Promise<R> {
    if (opts.timeout === undefined || opts.timeout === Infinity) return this.#promise;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`no result within ${opts.timeout} ms`)), Math.max(0, opts.timeout!));
    });
    return Promise.race([this.#promise, timedOut]).finally(() => clearTimeout(timer));
  }

  /** Waits until the result is ready (or `timeout` ms pass); never rejects. */
  async wait(opts: { timeout?: number } = {}): Promise<void> {
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

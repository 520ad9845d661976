/**
 * Pool: Python's `multiprocessing.Pool` for Node.js. Tasks are exported functions of one module,
 * run by `processes` workers (threads or child processes). This class checks inputs and shapes
 * apply/map/starmap/imap; the scheduler (scheduler.ts) runs the workers and the tasks.
 */
import { checkInt } from "@ipc/core/internal";
import { cpuCount } from "@ipc/process";
import { AsyncResult } from "./async-result.js";
import { chunks, collect, defaultChunkSize } from "./chunking.js";
import { imapResults } from "./imap.js";
import type { PoolMetrics } from "./metrics.js";
import type { MapOptions, PoolOptions, SubmitOptions } from "./options.js";
import { Scheduler } from "./scheduler.js";

type AnyFn = (...args: any[]) => any;
/** A task: an export name of the module, or the exported function itself. */
export type TaskRef<M> = keyof M & string | M[keyof M];
type FnOf<M, K> = K extends keyof M ? (M[K] extends AnyFn ? M[K] : never) : K extends AnyFn ? K : never;
type ResultOf<M, K> = Awaited<ReturnType<FnOf<M, K>>>;
type ArgsOf<M, K> = Parameters<FnOf<M, K>>;

/**
 * A pool of workers running the exported functions of `module`.
 *
 * @example
 * await using pool = new Pool<typeof import("./tasks.js")>({ module: new URL("./tasks.js", import.meta.url) });
 * await pool.map("square", [1, 2, 3]); // [1, 4, 9]
 */
export class Pool<M = Record<string, AnyFn>> {
  readonly #scheduler: Scheduler;

  constructor(opts: PoolOptions) {
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object with `module`");
    if (opts.module === undefined) throw new TypeError("Expected `module`: the module that exports the task functions");
    const module = opts.module instanceof URL ? opts.module.href : opts.module;
    const size = checkInt(opts.processes ?? cpuCount(), "processes", 1, 1024);
    if (opts.maxTasksPerChild !== undefined) checkInt(opts.maxTasksPerChild, "maxTasksPerChild", 1);
    if (opts.concurrentTasksPerWorker !== undefined) checkInt(opts.concurrentTasksPerWorker, "concurrentTasksPerWorker", 1, 10_000);
    if (opts.initArgs !== undefined && !Array.isArray(opts.initArgs)) throw new TypeError("Expected `initArgs` to be an array");
    if (opts.initializer !== undefined && typeof opts.initializer !== "string") {
      throw new TypeError("Expected `initializer` to be the name of an exported function of `module`");
    }
    if (opts.context !== undefined && opts.context !== "thread" && opts.context !== "process") {
      throw new TypeError(`Expected \`context\` to be "thread" or "process", got ${JSON.stringify(opts.context)}`);
    }
    this.#scheduler = new Scheduler(module, size, opts);
  }

  /** Number of workers. */
  get processes(): number {
    return this.#scheduler.size;
  }

  #fnName(fn: unknown): string {
    if (typeof fn === "string") return fn;
    if (typeof fn === "function" && fn.name) return fn.name;
    throw new TypeError("Expected a task: an export name of the module, or an exported (named) function");
  }

  /**
   * Runs `fn(...args)` in a worker and resolves with its result. `signal` cancels the task (see
   * {@link SubmitOptions.signal}); `timeout` (ms) rejects with TimeoutError when it passes first,
   * the task running on (as `applyAsync(...).get({ timeout })`).
   */
  apply<K extends TaskRef<M>>(fn: K, args?: ArgsOf<M, K>, opts: { signal?: AbortSignal; timeout?: number } = {}): Promise<ResultOf<M, K>> {
    return this.applyAsync(fn, args, { signal: opts.signal }).get({ timeout: opts.timeout });
  }

  /** As {@link apply}, returning an AsyncResult at once; `callback`/`errorCallback` are called when it settles. */
  applyAsync<K extends TaskRef<M>>(fn: K, args?: ArgsOf<M, K>, opts: SubmitOptions<ResultOf<M, K>> = {}): AsyncResult<ResultOf<M, K>> {
    let promise: Promise<ResultOf<M, K>>;
    try {
      if (args !== undefined && !Array.isArray(args)) throw new TypeError("Expected `args` to be an array");
      promise = this.#scheduler.submit(this.#fnName(fn), [(args ?? []) as unknown[]], true, opts.signal).then((v) => v[0] as ResultOf<M, K>);
    } catch (e) {
      promise = Promise.reject(e);
    }
    return new AsyncResult(withCallbacks(promise, opts));
  }

  /** Applies `fn` to every item (in chunks) and resolves with the results in order. */
  map<K extends TaskRef<M>>(fn: K, iterable: Iterable<ArgsOf<M, K>[0]> | AsyncIterable<ArgsOf<M, K>[0]>, opts: MapOptions = {}): Promise<ResultOf<M, K>[]> {
    return this.#mapCalls(fn, iterable, false, opts);
  }

  /** As {@link map}, returning an AsyncResult; `callback` gets the whole list. */
  mapAsync<K extends TaskRef<M>>(fn: K, iterable: Iterable<ArgsOf<M, K>[0]> | AsyncIterable<ArgsOf<M, K>[0]>, opts: MapOptions<ResultOf<M, K>[]> = {}): AsyncResult<ResultOf<M, K>[]> {
    return new AsyncResult(withCallbacks(this.map(fn, iterable, opts as MapOptions), opts));
  }

  /** As {@link map}, each item being the argument list: `starmap(f, [[1, 2]])` calls `f(1, 2)`. */
  starmap<K extends TaskRef<M>>(fn: K, iterable: Iterable<ArgsOf<M, K>> | AsyncIterable<ArgsOf<M, K>>, opts: MapOptions = {}): Promise<ResultOf<M, K>[]> {
    return this.#mapCalls(fn, iterable, true, opts);
  }

  /** As {@link starmap}, returning an AsyncResult. */
  starmapAsync<K extends TaskRef<M>>(fn: K, iterable: Iterable<ArgsOf<M, K>> | AsyncIterable<ArgsOf<M, K>>, opts: MapOptions<ResultOf<M, K>[]> = {}): AsyncResult<ResultOf<M, K>[]> {
    return new AsyncResult(withCallbacks(this.starmap(fn, iterable, opts as MapOptions), opts));
  }

  async #mapCalls<R>(fn: unknown, iterable: Iterable<unknown> | AsyncIterable<unknown>, star: boolean, opts: MapOptions): Promise<R[]> {
    const name = this.#fnName(fn);
    const items = await collect(iterable);
    const size = opts.chunkSize === undefined ? defaultChunkSize(items.length, this.#scheduler.size) : checkInt(opts.chunkSize, "chunkSize", 1);
    if (items.length === 0) return [];
    let done = 0;
    const parts = await Promise.all(
      chunks(items, size).map((chunk) =>
        this.#scheduler.submit(name, chunk, star, opts.signal).then((values) => {
          done += values.length;
          opts.onProgress?.(done, items.length);
          return values;
        }),
      ),
    );
    // concatenated by hand: Array#flat is several times slower on 100k-item results
    const out = new Array<unknown>(items.length);
    let k = 0;
    for (const part of parts) for (let i = 0; i < part.length; i++) out[k++] = part[i];
    return out as R[];
  }

  /** Results in input order, as they become available; reads the input only a bounded distance ahead. */
  imap<K extends TaskRef<M>>(fn: K, iterable: Iterable<ArgsOf<M, K>[0]> | AsyncIterable<ArgsOf<M, K>[0]>, opts: MapOptions = {}): AsyncIterable<ResultOf<M, K>> {
    return this.#imap(fn, iterable, true, opts) as AsyncIterable<ResultOf<M, K>>;
  }

  /** Results as tasks complete, in any order; reads the input only a bounded distance ahead. */
  imapUnordered<K extends TaskRef<M>>(fn: K, iterable: Iterable<ArgsOf<M, K>[0]> | AsyncIterable<ArgsOf<M, K>[0]>, opts: MapOptions = {}): AsyncIterable<ResultOf<M, K>> {
    return this.#imap(fn, iterable, false, opts) as AsyncIterable<ResultOf<M, K>>;
  }

  /** Checks the task when iteration starts (as a generator does), then yields the results. */
  async *#imap(fn: unknown, iterable: Iterable<unknown> | AsyncIterable<unknown>, ordered: boolean, opts: MapOptions): AsyncGenerator<unknown> {
    const scheduler = this.#scheduler;
    yield* imapResults((...a) => scheduler.submit(...a), scheduler.size, this.#fnName(fn), iterable, ordered, opts);
  }

  /** Activity so far. */
  metrics(): PoolMetrics {
    return this.#scheduler.metrics();
  }

  /** No more tasks may be submitted; workers exit once the queued work is done. */
  close(): void {
    this.#scheduler.close();
  }

  /** Ends every worker at once; unfinished tasks reject. */
  terminate(): Promise<void> {
    return this.#scheduler.terminate();
  }

  /** Waits for the workers to exit. @throws InvalidStateError unless `close()` or `terminate()` came first. */
  join(): Promise<void> {
    return this.#scheduler.join();
  }

  /** `await using pool = new Pool(...)`: terminates the pool. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }
}

function withCallbacks<R>(promise: Promise<R>, opts: SubmitOptions<R>): Promise<R> {
  if (!opts.callback && !opts.errorCallback) return promise;
  return promise.then(
    (v) => {
      opts.callback?.(v);
      return v;
    },
    (e) => {
      opts.errorCallback?.(e);
      throw e;
    },
  );
}

/**
 * Pool: Python's `multiprocessing.Pool` for Node.js. Tasks are exported functions of one module,
 * run by `processes` workers (threads or child processes). The pool schedules: each worker has its
 * own channel, gets batches of tasks sized to keep it busy without hoarding, and answers each task;
 * so when a worker dies the pool knows exactly which task it was running (that one fails with
 * WorkerLostError) and which were only queued behind it (they go to another worker).
 */
import { abortReason, checkInt, entryUrl, isTypeScript, InvalidStateError, IpcError, ProcessError, WorkerLostError } from "@ipc/core";
import { cpuCount, Process } from "@ipc/process";
import { AsyncResult } from "./async-result.js";
import { chunks, collect, defaultChunkSize } from "./chunking.js";
import { type Link, RingLink, SocketHub } from "./links.js";
import { type PoolMetrics, Samples } from "./metrics.js";
import type { MapOptions, PoolOptions, SubmitOptions } from "./options.js";
import type { FromWorker, Task } from "./protocol.js";

type AnyFn = (...args: any[]) => any;
/** A task: an export name of the module, or the exported function itself. */
export type TaskRef<M> = keyof M & string | M[keyof M];
type FnOf<M, K> = K extends keyof M ? (M[K] extends AnyFn ? M[K] : never) : K extends AnyFn ? K : never;
type ResultOf<M, K> = Awaited<ReturnType<FnOf<M, K>>>;
type ArgsOf<M, K> = Parameters<FnOf<M, K>>;

/** Most tasks sent ahead to one worker. */
const MAX_AHEAD = 64;

const State = { Running: "running", Closing: "closing", Terminated: "terminated", Broken: "broken" } as const;
type State = (typeof State)[keyof typeof State];

interface Entry {
  task: Task;
  resolve(values: unknown[]): void;
  reject(error: unknown): void;
  signal?: AbortSignal;
  cancelled?: unknown;
  submitted: number;
  dispatched?: number;
}

interface Worker {
  index: number;
  proc: Process;
  link: Link;
  inflight: Entry[];
  ready: boolean;
  /** Tasks it may still be given (maxTasksPerChild), Infinity when unlimited. */
  allowance: number;
  stopping: boolean;
}

/**
 * A pool of workers running the exported functions of `module`.
 *
 * @example
 * await using pool = new Pool<typeof import("./tasks.js")>({ module: new URL("./tasks.js", import.meta.url) });
 * await pool.map("square", [1, 2, 3]); // [1, 4, 9]
 */
export class Pool<M = Record<string, AnyFn>> {
  readonly #module: string;
  readonly #opts: PoolOptions;
  readonly #size: number;
  #state: State = State.Running;
  #broken: unknown;
  readonly #workers = new Set<Worker>();
  readonly #exits = new Set<Promise<void>>();
  readonly #pending: Entry[] = [];
  #nextTask = 1;
  #nextWorker = 0;
  #hub: SocketHub | undefined;
  #completed = 0;
  #failed = 0;
  #replaced = 0;
  readonly #wait = new Samples();
  readonly #run = new Samples();

  constructor(opts: PoolOptions) {
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object with `module`");
    if (opts.module === undefined) throw new TypeError("Expected `module`: the module that exports the task functions");
    this.#opts = opts;
    this.#module = opts.module instanceof URL ? opts.module.href : opts.module;
    this.#size = checkInt(opts.processes ?? cpuCount(), "processes", 1, 1024);
    if (opts.maxTasksPerChild !== undefined) checkInt(opts.maxTasksPerChild, "maxTasksPerChild", 1);
    if (opts.initArgs !== undefined && !Array.isArray(opts.initArgs)) throw new TypeError("Expected `initArgs` to be an array");
    if (opts.initializer !== undefined && typeof opts.initializer !== "string") {
      throw new TypeError("Expected `initializer` to be the name of an exported function of `module`");
    }
    if (opts.context !== undefined && opts.context !== "thread" && opts.context !== "process") {
      throw new TypeError(`Expected \`context\` to be "thread" or "process", got ${JSON.stringify(opts.context)}`);
    }
    if ((opts.context ?? "thread") === "process") this.#hub = new SocketHub();
    for (let i = 0; i < this.#size; i++) this.#spawn();
  }

  /** Number of workers. */
  get processes(): number {
    return this.#size;
  }

  #spawn(): void {
    const index = this.#nextWorker++;
    let worker: Worker;
    const onMessage = (msg: FromWorker) => this.#onMessage(worker, msg);
    const link: Link = this.#hub ? this.#hub.link(index, onMessage) : new RingLink(onMessage);
    const esm = entryUrl("pool-worker", import.meta.url);
    // thread workers start from the CommonJS builds of the bootstrap and the pool worker: a fresh
    // worker loads them ~10 ms faster than the ESM ones (bench: pool_startup)
    const commonjs = !this.#hub && !isTypeScript(esm);
    const proc = new Process({
      module: commonjs ? new URL("./pool-worker.cjs", esm) : esm,
      commonjsBootstrap: commonjs,
      target: "poolWorker",
      args: [
        {
          module: this.#module,
          initializer: this.#opts.initializer,
          initArgs: this.#opts.initArgs ?? [],
          maxTasks: this.#opts.maxTasksPerChild ?? 0,
          link: link.setup,
        },
      ],
      name: `PoolWorker-${index + 1}`,
      context: this.#opts.context ?? "thread",
      daemon: true,
      resourceLimits: this.#opts.resourceLimits,
    });
    worker = { index, proc, link, inflight: [], ready: false, allowance: this.#opts.maxTasksPerChild ?? Infinity, stopping: false };
    this.#workers.add(worker);
    link.expect(1); // "ready" or "initError"
    const start = () => {
      proc.start();
      const exit = proc.join().then(async () => {
        await this.#onExit(worker);
        this.#exits.delete(exit);
      });
      this.#exits.add(exit);
    };
    if (this.#hub) this.#hub.ready.then(start, (e) => this.#breakPool(e));
    else start();
  }

  #onMessage(w: Worker, msg: FromWorker): void {
    switch (msg.t) {
      case "ready":
        w.ready = true;
        this.#dispatch();
        return;
      case "initError":
        this.#breakPool(new ProcessError(`a pool worker could not start (loading the task module or running the initializer failed in ${w.proc.name})`, { cause: msg.error }));
        return;
      case "answers": {
        const now = performance.now();
        for (const answer of msg.answers) {
          const entry = w.inflight.shift();
          if (!entry || entry.task.id !== answer.id) continue;
          this.#run.add(now - (entry.dispatched ?? now));
          if (entry.cancelled !== undefined) entry.reject(entry.cancelled);
          else if (answer.ok) {
            this.#completed++;
            entry.resolve(answer.value);
          } else {
            this.#failed++;
            entry.reject(answer.error);
          }
        }
        this.#dispatch();
        return;
      }
    }
  }

  async #onExit(w: Worker): Promise<void> {
    // take in what it said before it ended (an initError explains an early death)
    await w.link.drain();
    this.#workers.delete(w);
    if (!w.ready && this.#state !== State.Terminated && this.#state !== State.Broken) {
      // it died before it could say whether it started: do not respawn it forever
      this.#breakPool(new ProcessError(`pool worker ${w.proc.name} exited (code ${w.proc.exitCode}) before it was ready`));
    }
    w.link.close();
    this.#hub?.forget(w.index);
    const [running, ...queued] = w.inflight;
    w.inflight = [];
    if (running) {
      this.#failed++;
      const why =
        running.cancelled ??
        (this.#state === State.Terminated
          ? new IpcError("the pool was terminated")
          : new WorkerLostError(`${w.proc.name} ended (exit code ${w.proc.exitCode}) while running task ${running.task.id}`));
      running.reject(why);
    }
    // tasks only queued behind it go to another worker (or fail with the pool)
    for (const e of queued.reverse()) {
      if (e.cancelled !== undefined) e.reject(e.cancelled);
      else if (this.#state === State.Terminated) e.reject(new IpcError("the pool was terminated"));
      else if (this.#state === State.Broken) e.reject(this.#broken);
      else this.#pending.unshift(e);
    }
    if (this.#state === State.Running || (this.#state === State.Closing && this.#pending.length > 0)) {
      this.#replaced++;
      this.#spawn();
    }
    this.#dispatch();
  }

  #breakPool(error: unknown): void {
    if (this.#state === State.Broken || this.#state === State.Terminated) return;
    this.#state = State.Broken;
    this.#broken = error;
    for (const e of this.#pending.splice(0)) e.reject(error);
    for (const w of this.#workers) {
      for (const e of w.inflight.splice(0)) e.reject(error);
      w.proc.kill();
    }
  }

  #dispatch(): void {
    if (this.#state === State.Terminated || this.#state === State.Broken) return;
    const ready = [...this.#workers].filter((w) => w.ready && !w.stopping);
    if (ready.length > 0 && this.#pending.length > 0) {
      // keep every worker busy, but do not hoard: send at most a fair share ahead
      const share = Math.max(1, Math.min(MAX_AHEAD, Math.ceil(this.#pending.length / ready.length)));
      for (const w of ready) {
        const room = Math.min(share - w.inflight.length, w.allowance);
        if (room <= 0) continue;
        const batch: Entry[] = [];
        while (batch.length < room && this.#pending.length > 0) {
          const e = this.#pending.shift()!;
          if (e.cancelled !== undefined) continue;
          batch.push(e);
        }
        if (batch.length === 0) break;
        const now = performance.now();
        for (const e of batch) {
          e.dispatched = now;
          this.#wait.add(now - e.submitted);
        }
        w.inflight.push(...batch);
        w.allowance -= batch.length;
        w.link.expect(batch.length);
        w.link.send({ t: "tasks", tasks: batch.map((e) => e.task) });
      }
    }
    if (this.#state === State.Closing && this.#pending.length === 0) {
      for (const w of this.#workers) {
        if (w.inflight.length === 0 && !w.stopping) {
          w.stopping = true;
          w.link.send({ t: "stop" });
        }
      }
    }
  }

  #fnName(fn: unknown): string {
    if (typeof fn === "string") return fn;
    if (typeof fn === "function" && fn.name) return fn.name;
    throw new TypeError("Expected a task: an export name of the module, or an exported (named) function");
  }

  /** Queues one task of `calls`; resolves with its values. */
  #submit(fn: string, items: unknown[], star: boolean, signal?: AbortSignal): Promise<unknown[]> {
    if (this.#state === State.Broken) return Promise.reject(this.#broken);
    if (this.#state !== State.Running) return Promise.reject(new InvalidStateError(`the pool is ${this.#state}`));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const entry: Entry = { task: { id: this.#nextTask++, fn, items, star }, resolve, reject, signal, submitted: performance.now() };
      if (signal) {
        const onAbort = () => this.#abort(entry, abortReason(signal));
        signal.addEventListener("abort", onAbort, { once: true });
        const done = () => signal.removeEventListener("abort", onAbort);
        entry.resolve = (v) => {
          done();
          resolve(v);
        };
        entry.reject = (e) => {
          done();
          reject(e);
        };
      }
      this.#pending.push(entry);
      this.#dispatchSoon();
    });
  }

  #scheduled = false;
  /** Dispatches once the current tick's submissions are all queued, so they leave in big batches. */
  #dispatchSoon(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  #abort(entry: Entry, reason: unknown): void {
    const i = this.#pending.indexOf(entry);
    if (i >= 0) {
      this.#pending.splice(i, 1);
      entry.reject(reason);
      return;
    }
    entry.cancelled = reason;
    for (const w of this.#workers) {
      // running right now: end its worker (a new one takes its place)
      if (w.inflight[0] === entry) w.proc.kill();
    }
  }

  /** Runs `fn(...args)` in a worker and resolves with its result. */
  apply<K extends TaskRef<M>>(fn: K, args?: ArgsOf<M, K>, opts: Pick<SubmitOptions, "signal"> = {}): Promise<ResultOf<M, K>> {
    return this.applyAsync(fn, args, opts).get();
  }

  /** As {@link apply}, returning an AsyncResult at once; `callback`/`errorCallback` are called when it settles. */
  applyAsync<K extends TaskRef<M>>(fn: K, args?: ArgsOf<M, K>, opts: SubmitOptions<ResultOf<M, K>> = {}): AsyncResult<ResultOf<M, K>> {
    let promise: Promise<ResultOf<M, K>>;
    try {
      if (args !== undefined && !Array.isArray(args)) throw new TypeError("Expected `args` to be an array");
      promise = this.#submit(this.#fnName(fn), [(args ?? []) as unknown[]], true, opts.signal).then((v) => v[0] as ResultOf<M, K>);
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
    const size = opts.chunkSize === undefined ? defaultChunkSize(items.length, this.#size) : checkInt(opts.chunkSize, "chunkSize", 1);
    if (items.length === 0) return [];
    let done = 0;
    const parts = await Promise.all(
      chunks(items, size).map((chunk) =>
        this.#submit(name, chunk, star, opts.signal).then((values) => {
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

  async *#imap(fn: unknown, iterable: Iterable<unknown> | AsyncIterable<unknown>, ordered: boolean, opts: MapOptions): AsyncGenerator<unknown> {
    const name = this.#fnName(fn);
    const size = opts.chunkSize === undefined ? 1 : checkInt(opts.chunkSize, "chunkSize", 1);
    const source = (Symbol.asyncIterator in (iterable as object) ? (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (iterable as Iterable<unknown>)[Symbol.iterator]()) as
      | Iterator<unknown>
      | AsyncIterator<unknown>;
    // bounded read-ahead: enough to keep every worker busy between round trips, never the whole input
    const window = this.#size * Math.max(4, Math.ceil(64 / size));
    type Slot = { value?: unknown[]; error?: unknown; settled: boolean };
    const inflight: Slot[] = []; // submission order
    const settled: Slot[] = []; // completion order
    let wake: (() => void) | undefined;
    let exhausted = false;
    let inputError: { error: unknown } | undefined;
    let done = 0;
    const fill = async () => {
      while (!exhausted && !inputError && inflight.length < window) {
        const chunk: unknown[] = [];
        try {
          while (chunk.length < size) {
            const r = await source.next();
            if (r.done) {
              exhausted = true;
              break;
            }
            chunk.push(r.value);
          }
        } catch (error) {
          // the chunk the error fell in fails as a whole (as Python's imap): drop its items
          inputError = { error };
          break;
        }
        if (chunk.length > 0) {
          const slot: Slot = { settled: false };
          const settle = () => {
            slot.settled = true;
            settled.push(slot);
            wake?.();
          };
          this.#submit(name, chunk, false, opts.signal).then(
            (v) => ((slot.value = v), settle()),
            (e) => ((slot.error = e), settle()),
          );
          inflight.push(slot);
        }
      }
    };
    await fill();
    while (inflight.length > 0) {
      const next = () => (ordered ? (inflight[0]!.settled ? inflight[0] : undefined) : settled[0]);
      let slot = next();
      while (!slot) {
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        slot = next();
      }
      inflight.splice(inflight.indexOf(slot), 1);
      const k = settled.indexOf(slot);
      if (k >= 0) settled.splice(k, 1);
      if (slot.error !== undefined) throw slot.error;
      done += slot.value!.length;
      opts.onProgress?.(done, undefined);
      for (const v of slot.value!) yield v;
      await fill();
    }
    if (inputError) throw inputError.error;
  }

  /** Activity so far. */
  metrics(): PoolMetrics {
    let running = 0;
    for (const w of this.#workers) running += w.inflight.length;
    return {
      tasksCompleted: this.#completed,
      tasksFailed: this.#failed,
      queueLength: this.#pending.length,
      running,
      workers: this.#workers.size,
      workersReplaced: this.#replaced,
      waitTime: this.#wait.percentiles(),
      runTime: this.#run.percentiles(),
    };
  }

  /** No more tasks may be submitted; workers exit once the queued work is done. */
  close(): void {
    if (this.#state !== State.Running) return;
    this.#state = State.Closing;
    this.#dispatch();
  }

  /** Ends every worker at once; unfinished tasks reject. */
  async terminate(): Promise<void> {
    if (this.#state === State.Terminated) return;
    this.#state = State.Terminated;
    const error = new IpcError("the pool was terminated");
    for (const e of this.#pending.splice(0)) e.reject(error);
    for (const w of this.#workers) w.proc.terminate();
    await this.#drainExits();
    this.#hub?.close();
  }

  /** Waits for the workers to exit. @throws InvalidStateError unless `close()` or `terminate()` came first. */
  async join(): Promise<void> {
    if (this.#state === State.Running) throw new InvalidStateError("join() needs close() or terminate() first");
    await this.#drainExits();
    this.#hub?.close();
  }

  async #drainExits(): Promise<void> {
    while (this.#exits.size > 0) await Promise.all([...this.#exits]);
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

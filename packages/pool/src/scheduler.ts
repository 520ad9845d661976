/**
 * The pool's engine: starts and replaces workers, queues tasks, sends them to workers in batches
 * sized to keep each busy without hoarding, matches answers to tasks, aborts, and keeps metrics.
 * Each worker has its own channel and answers each task, so when a worker dies the scheduler knows
 * exactly which task it was running (that one fails with WorkerLostError) and which were only
 * queued behind it (they go to another worker). `Pool` (pool.ts) is the public face over it.
 */
import { ClosedError, InvalidStateError, IpcError, ProcessError, WorkerLostError } from "@ipc/core";
import { abortReason, entryUrl, isTypeScript } from "@ipc/core/internal";
import { Process } from "@ipc/process";
import { type Link, RingLink, SocketHub } from "./links.js";
import { type PoolMetrics, Samples } from "./metrics.js";
import type { PoolOptions } from "./options.js";
import type { FromWorker, Task } from "./protocol.js";

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
  /** A gated task the worker was allowed to start. */
  started?: boolean;
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

/** Schedules the tasks of one pool over its workers. */
export class Scheduler {
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

  /** Tasks one worker runs at once. */
  readonly concurrency: number;

  /** Starts `size` workers running the tasks of `module` (options checked by the caller). */
  constructor(
    readonly module: string,
    readonly size: number,
    readonly opts: PoolOptions,
  ) {
    this.concurrency = opts.concurrentTasksPerWorker ?? 1;
    if ((opts.context ?? "thread") === "process") this.#hub = new SocketHub();
    for (let i = 0; i < size; i++) this.#spawn();
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
          module: this.module,
          initializer: this.opts.initializer,
          initArgs: this.opts.initArgs ?? [],
          maxTasks: this.opts.maxTasksPerChild ?? 0,
          concurrency: this.concurrency,
          link: link.setup,
        },
      ],
      name: `PoolWorker-${index + 1}`,
      context: this.opts.context ?? "thread",
      daemon: true,
      resourceLimits: this.opts.resourceLimits,
    });
    worker = { index, proc, link, inflight: [], ready: false, allowance: this.opts.maxTasksPerChild ?? Infinity, stopping: false };
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
      case "starting": {
        // a gated task asks to start: it runs unless it was aborted meanwhile
        const entry = w.inflight.find((e) => e.task.id === msg.id);
        const run = entry !== undefined && entry.cancelled === undefined;
        if (entry) entry.started = true;
        w.link.send({ t: "go", id: msg.id, run });
        return;
      }
      case "answers": {
        const now = performance.now();
        for (const answer of msg.answers) {
          // in order with one task at a time; in any order when a worker runs several
          let k = 0;
          if (w.inflight[0]?.task.id !== answer.id) k = w.inflight.findIndex((e) => e.task.id === answer.id);
          if (k < 0) continue;
          const entry = k === 0 ? w.inflight.shift()! : w.inflight.splice(k, 1)[0];
          this.#run.add(now - (entry.dispatched ?? now));
          // a cancelled task (rejected already), skipped by the worker or run to its end
          if (entry.cancelled !== undefined || "skipped" in answer) entry.reject(entry.cancelled);
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
    // the first `concurrency` tasks it had not answered may have started: they are lost with it
    const started = w.inflight.slice(0, this.concurrency);
    const queued = w.inflight.slice(this.concurrency);
    w.inflight = [];
    for (const running of started) {
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
    const live = [...this.#workers].filter((w) => !w.stopping);
    const ready = live.filter((w) => w.ready);
    if (ready.length > 0 && this.#pending.length > 0) {
      // keep every worker busy, but do not hoard: send at most a fair share ahead, counted over
      // every live worker, starting ones included, so that a worker never takes tasks it cannot
      // start while another is about to be idle (three async tasks on three workers run at once)
      const share = Math.max(1, Math.min(Math.max(MAX_AHEAD, this.concurrency), Math.ceil(this.#pending.length / live.length)));
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

  /** Queues one task: `fn` over `items` (each an argument list when `star`); resolves with its values. */
  submit(fn: string, items: unknown[], star: boolean, signal?: AbortSignal): Promise<unknown[]> {
    if (this.#state === State.Broken) return Promise.reject(this.#broken);
    // use after close() or terminate() (API.md): ClosedError
    if (this.#state !== State.Running) return Promise.reject(new ClosedError(`the pool is ${this.#state === State.Closing ? "closed" : this.#state}: it takes no more tasks`));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const task: Task = signal ? { id: this.#nextTask++, fn, items, star, gated: true } : { id: this.#nextTask++, fn, items, star };
      const entry: Entry = { task, resolve, reject, signal, submitted: performance.now() };
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
    entry.reject(reason);
    for (const w of this.#workers) {
      if (!w.inflight.includes(entry)) continue;
      // not started (it is gated: it has a signal): the worker will be told to skip it
      if (!entry.started) continue;
      // running: end its worker (a new one takes its place), unless the worker runs several at
      // once: then it runs on beside the others, and its result is dropped
      if (this.concurrency === 1) w.proc.kill();
    }
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

}

/**
 * Pool on Redis: the API of `@ipc/pool` with workers on any machine. A client pushes jobs (chunks
 * of items, not single items) onto the pool's list; workers started with `ipc-redis-worker` (or
 * `runWorker`, or this pool's own `processes`) take them, run the named export of their task
 * module and push the results onto this client's result list. Keys and wire format:
 * pool-protocol.ts.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AsyncResult, type MapOptions, type SubmitOptions } from "@ipc/pool";
import { ClosedError, InvalidStateError, MessageTooLargeError, TimeoutError, WorkerLostError } from "@ipc/core";
import { abortReason, checkInt, checkSignal, checkTimeout, serializeAt } from "@ipc/core/internal";
import { DEFAULT_MAX_VALUE_BYTES, decode } from "./codec.js";
import { type BlockingClient, checkName, keyOf, Link, type RedisObjectOptions } from "./connection.js";
import { uniqueId } from "./ids.js";
import { jobHeader, REAP_WORKERS, RESULT_TTL_S, MOVE_SOME } from "./pool-protocol.js";
import { blockSeconds } from "./waiter.js";

/** How long a worker this pool started may take to stop before it is killed (ms). */
const STOP_GRACE_MS = 5000;

/** Options of a Redis {@link Pool}. */
export interface PoolOptions extends RedisObjectOptions {
  /**
   * The task module. Needed only when this pool starts workers of its own (`processes`); workers
   * elsewhere name theirs on their command line (`ipc-redis-worker --module ...`).
   */
  module?: string | URL;
  /** Worker processes this pool starts on this machine (and replaces when one dies); default 0: workers come from `ipc-redis-worker`. */
  processes?: number;
  /** Name of an exported function each worker of this pool runs once before any task. */
  initializer?: string;
  /** Arguments of the initializer. */
  initArgs?: unknown[];
  /** Times a job lost with its worker (killed, or silent for `leaseMs`) is run again before it fails with WorkerLostError; default 0. */
  maxRetries?: number;
  /** Lease of this pool's own workers in ms; default 30,000. */
  leaseMs?: number;
  /** Items per job for `map`/`starmap` when not given per call: default as Python (len / (4 × workers)), where workers is how many are registered, at least 1. */
  chunkSize?: number;
  /** Largest encoded job in bytes; default 16 MiB. */
  maxValueBytes?: number;
}

/** What the pool has done so far (this client's view). */
export interface RedisPoolMetrics {
  /** Jobs sent. */
  submitted: number;
  /** Jobs whose result came back. */
  completed: number;
  /** Jobs that failed (task error or lost worker). */
  failed: number;
  /** Jobs sent and not yet back. */
  pending: number;
  /** Workers registered in Redis now (every machine). */
  workers: number;
}

type Pending = { resolve: (values: unknown[]) => void; reject: (e: unknown) => void; bytes: Buffer };
type AnyFn = (...args: never[]) => unknown;
type TaskName<M> = (keyof M & string) | M[keyof M];

const workerEntry = fileURLToPath(new URL("./cli.js", import.meta.url));

/** A process pool whose workers take jobs from Redis, on this machine or any other. */
export class Pool<M = Record<string, AnyFn>> {
  /** The pool's name in Redis. */
  readonly name: string;
  readonly #link: Link;
  readonly #k: (part: string) => string;
  readonly #client = uniqueId();
  readonly #opts: PoolOptions;
  readonly #maxRetries: number;
  readonly #max: number;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();
  #reader: Promise<void> | undefined;
  #readerConn: BlockingClient | undefined;
  #state: "run" | "close" | "terminate" = "run";
  readonly #children = new Set<ChildProcess>();
  readonly #idle = new Set<() => void>();
  readonly #stats = { submitted: 0, completed: 0, failed: 0 };
  #reapTimer: NodeJS.Timeout | undefined;
  /** ms before a worker that died young is replaced (0: at once) */
  #backoff = 0;

  constructor(opts: PoolOptions) {
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be { connection, name, ... }");
    this.name = checkName(opts.name);
    const prefix = opts.prefix ?? "ipc";
    this.#k = (part) => keyOf(prefix, this.name, part);
    this.#maxRetries = opts.maxRetries === undefined ? 0 : checkInt(opts.maxRetries, "maxRetries");
    this.#max = opts.maxValueBytes === undefined ? DEFAULT_MAX_VALUE_BYTES : checkInt(opts.maxValueBytes, "maxValueBytes", 16);
    const processes = opts.processes === undefined ? 0 : checkInt(opts.processes, "processes");
    if (opts.chunkSize !== undefined) checkInt(opts.chunkSize, "chunkSize", 1);
    if (processes > 0 && opts.module === undefined) throw new TypeError("`module` is needed when the pool starts its own workers (`processes`)");
    this.#opts = opts;
    this.#link = new Link(opts.connection);
    for (let i = 0; i < processes; i++) this.#spawn();
    // a client also returns the jobs of dead workers (there may be no live worker to do it)
    const every = Math.max(100, Math.floor((opts.leaseMs ?? 30_000) / 3));
    this.#reapTimer = setInterval(() => {
      void this.#reap().catch(() => {});
      // results taken but not handled (a reply lost in a way the reader did not see) are read again
      if (this.#pending.size > 0) void this.#rereadSeen().catch(() => {});
    }, every);
    this.#reapTimer.unref();
  }

  #spawn(): void {
    const o = this.#opts;
    const url = typeof o.connection === "string" ? o.connection : "url" in o.connection ? o.connection.url : undefined;
    if (url === undefined) throw new TypeError("a pool that starts its own workers needs a URL as `connection`, not a client");
    // one worker per child: without `--processes 1` the CLI would supervise one per CPU itself
    const args = ["--url", url, "--name", this.name, "--module", o.module instanceof URL ? o.module.href : String(o.module), "--processes", "1"];
    if (o.prefix) args.push("--prefix", o.prefix);
    if (o.leaseMs) args.push("--lease", String(o.leaseMs));
    if (o.initializer) args.push("--initializer", o.initializer, "--init-args", JSON.stringify(o.initArgs ?? []));
    const child = fork(workerEntry, args, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const started = performance.now();
    this.#children.add(child);
    child.once("exit", () => {
      this.#children.delete(child);
      // replace a worker that died while the pool runs (its job is returned by the reaper); one
      // that died young (Redis unreachable, a module that throws) is replaced after a growing pause
      if (this.#state === "terminate" || (this.#state === "close" && this.#pending.size === 0)) return;
      this.#backoff = performance.now() - started < 2000 ? Math.min(5000, Math.max(100, this.#backoff * 2)) : 0;
      const again = (): void => {
        if (this.#state === "terminate") return;
        this.#spawn();
        void this.#reap().catch(() => {});
      };
      if (this.#backoff === 0) again();
      else setTimeout(again, this.#backoff).unref();
    });
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  async #reap(): Promise<number> {
    const c = await this.#link.cmd;
    return (await REAP_WORKERS.run(c, [this.#k("workers"), this.#k("jobs"), this.#k("tries")], [this.#k(""), RESULT_TTL_S])) as number;
  }

  async #rereadSeen(): Promise<void> {
    const c = await this.#link.cmd;
    for (const m of await c.lrangeBuffer(this.#k(`seen:${this.#client}`), 0, -1)) this.#onResult(m);
  }

  /** Worker processes this pool started (not counting workers elsewhere). */
  get processes(): number {
    return this.#children.size;
  }

  #check(): void {
    if (this.#state !== "run") throw new InvalidStateError(`Pool ${this.name} is ${this.#state === "close" ? "closed" : "terminated"}`);
  }

  /** Sends one job of `items`; resolves with its values. */
  #submit(fn: unknown, items: unknown[], star: boolean, signal: AbortSignal | undefined): Promise<unknown[]> {
    const name = typeof fn === "function" ? fn.name : fn;
    if (typeof name !== "string" || name === "") return Promise.reject(new TypeError("Expected `fn` to be the name of an exported function (or a named function)"));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const id = ++this.#seq;
    let bytes: Buffer;
    try {
      const body = serializeAt({ fn: name, items, star }, star ? "args" : "items") as Buffer;
      if (body.length > this.#max) throw new MessageTooLargeError(`a job of ${body.length} bytes is more than maxValueBytes (${this.#max})`);
      bytes = Buffer.concat([jobHeader(this.#client, id, this.#maxRetries), body]);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<unknown[]>((resolve, reject) => {
      const p: Pending = { resolve, reject, bytes };
      this.#pending.set(id, p);
      this.#stats.submitted++;
      let onAbort: (() => void) | undefined;
      if (signal) {
        onAbort = () => {
          if (!this.#pending.delete(id)) return;
          this.#stats.failed++;
          reject(abortReason(signal));
          // not started yet: it never runs; started: its result is dropped
          void this.#link.cmd.then((c) => c.lrem(this.#k("jobs"), 1, bytes)).catch(() => {});
          this.#settled();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        p.resolve = (v) => (signal.removeEventListener("abort", onAbort!), resolve(v));
        p.reject = (e) => (signal.removeEventListener("abort", onAbort!), reject(e));
      }
      this.#link.cmd.then((c) => c.lpush(this.#k("jobs"), bytes)).then(
        () => this.#read(),
        (e: unknown) => {
          if (this.#pending.delete(id)) {
            this.#stats.failed++;
            p.reject(e);
            this.#settled();
          }
        },
      );
    });
  }

  /**
   * Reads results while jobs are out (one blocking connection; stops when none are). A result is
   * moved, not popped, into a list of results taken (`seen`): a reply lost when the connection
   * drops (ioredis sends the command again after reconnecting) leaves the result there, and after
   * any reconnect the reader reads that list again before clearing it. Results are keyed by job,
   * so one read twice is dropped.
   */
  #read(): void {
    if (this.#reader !== undefined) return;
    this.#reader = (async () => {
      const b = (this.#readerConn ??= await this.#link.blocking());
      const c = await this.#link.cmd;
      const key = this.#k(`res:${this.#client}`);
      const seen = this.#k(`seen:${this.#client}`);
      let dropped = false;
      const onClose = (): void => {
        dropped = true;
      };
      b.client.on("close", onClose);
      c.on("close", onClose);
      try {
        while (this.#pending.size > 0 && this.#state !== "terminate") {
          const r = await b.client.blmoveBuffer(key, seen, "RIGHT", "LEFT", blockSeconds(Infinity));
          if (r === null) {
            void this.#reap().catch(() => {});
          } else {
            this.#onResult(r);
            // whatever else has arrived, in one round trip per 1,000 results
            for (;;) {
              const more = (await MOVE_SOME.run(c, [key, seen], [1000])) as Buffer[];
              for (const m of more) this.#onResult(m);
              if (more.length < 1000) break;
            }
          }
          if (dropped) {
            // a connection dropped since the last clear: what it took without telling us is here
            dropped = false;
            for (const m of await c.lrangeBuffer(seen, 0, -1)) this.#onResult(m);
          }
          await c.del(seen);
        }
      } finally {
        b.client.off("close", onClose);
        c.off("close", onClose);
      }
    })()
      .catch((e: unknown) => {
        for (const [id, p] of this.#pending) {
          this.#pending.delete(id);
          p.reject(e);
        }
      })
      .finally(() => {
        this.#reader = undefined;
        if (this.#pending.size > 0 && this.#state !== "terminate") this.#read();
      });
  }

  #onResult(bytes: Buffer): void {
    if (bytes[0] === 0x4c) {
      // L<job>: lost with its worker more often than maxRetries
      const id = Number(bytes.subarray(1).toString("latin1"));
      const p = this.#pending.get(id);
      if (p === undefined) return;
      this.#pending.delete(id);
      this.#stats.failed++;
      p.reject(new WorkerLostError(`Pool ${this.name}: the worker running job ${id} was lost${this.#maxRetries ? ` (after ${this.#maxRetries} retries)` : ""}`));
      this.#settled();
      return;
    }
    let msg: { job: number; ok: boolean; values?: unknown[]; error?: unknown };
    try {
      msg = decode(bytes.subarray(1));
    } catch {
      return;
    }
    const p = this.#pending.get(msg.job);
    if (p === undefined) return;
    this.#pending.delete(msg.job);
    if (msg.ok) {
      this.#stats.completed++;
      p.resolve(msg.values ?? []);
    } else {
      this.#stats.failed++;
      p.reject(msg.error);
    }
    this.#settled();
  }

  #settled(): void {
    if (this.#pending.size === 0) for (const f of [...this.#idle]) f();
  }

  /** Runs `fn(...args)` on a worker and resolves with its result; `timeout` rejects with TimeoutError (the task runs on). */
  async apply<K extends TaskName<M>>(fn: K, args: unknown[] = [], opts: { signal?: AbortSignal; timeout?: number } = {}): Promise<unknown> {
    this.#check();
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    const run = this.#submit(fn, [args], true, signal).then((v) => v[0]);
    if (timeout === Infinity) return run;
    return new AsyncResult(run).get({ timeout });
  }

  /** As {@link apply}, returning an AsyncResult; `callback`/`errorCallback` are called with the outcome. */
  applyAsync<K extends TaskName<M>>(fn: K, args: unknown[] = [], opts: SubmitOptions = {}): AsyncResult<unknown> {
    this.#check();
    return this.#withCallbacks(this.#submit(fn, [args], true, checkSignal(opts.signal)).then((v) => v[0]), opts);
  }

  #withCallbacks<R>(p: Promise<R>, opts: SubmitOptions<R>): AsyncResult<R> {
    if (opts.callback || opts.errorCallback) {
      p.then(
        (v) => opts.callback?.(v),
        (e: unknown) => opts.errorCallback?.(e),
      );
    }
    return new AsyncResult(p);
  }

  async #chunkSize(n: number, given: number | undefined): Promise<number> {
    if (given !== undefined) return checkInt(given, "chunkSize", 1);
    if (this.#opts.chunkSize !== undefined) return this.#opts.chunkSize;
    const workers = Math.max(1, this.#children.size, await (await this.#link.cmd).scard(this.#k("workers")));
    return Math.max(1, Math.ceil(n / (workers * 4)));
  }

  async #mapAll(fn: unknown, iterable: Iterable<unknown> | AsyncIterable<unknown>, star: boolean, opts: Pick<MapOptions, "chunkSize" | "signal" | "onProgress">): Promise<unknown[]> {
    const items: unknown[] = [];
    for await (const x of iterable as AsyncIterable<unknown>) items.push(x);
    if (items.length === 0) return [];
    const size = await this.#chunkSize(items.length, opts.chunkSize);
    const signal = checkSignal(opts.signal);
    let done = 0;
    const parts: Promise<unknown[]>[] = [];
    for (let i = 0; i < items.length; i += size) {
      const chunk = items.slice(i, i + size);
      parts.push(
        this.#submit(fn, chunk, star, signal).then((v) => {
          done += chunk.length;
          opts.onProgress?.(done, items.length);
          return v;
        }),
      );
    }
    return (await Promise.all(parts)).flat();
  }

  /** `fn(item)` for every item, on the workers; results in order. Chunks of `chunkSize` items travel as one job. */
  map<K extends TaskName<M>>(fn: K, iterable: Iterable<unknown> | AsyncIterable<unknown>, opts: MapOptions = {}): Promise<unknown[]> {
    try {
      this.#check();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#mapAll(fn, iterable, false, opts);
  }

  /** As {@link map}, returning an AsyncResult. */
  mapAsync<K extends TaskName<M>>(fn: K, iterable: Iterable<unknown> | AsyncIterable<unknown>, opts: MapOptions<unknown[]> = {}): AsyncResult<unknown[]> {
    this.#check();
    return this.#withCallbacks(this.#mapAll(fn, iterable, false, opts), opts);
  }

  /** `fn(...args)` for every argument array. */
  starmap<K extends TaskName<M>>(fn: K, iterable: Iterable<unknown[]> | AsyncIterable<unknown[]>, opts: MapOptions = {}): Promise<unknown[]> {
    try {
      this.#check();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#mapAll(fn, iterable, true, opts);
  }

  /** As {@link starmap}, returning an AsyncResult. */
  starmapAsync<K extends TaskName<M>>(fn: K, iterable: Iterable<unknown[]> | AsyncIterable<unknown[]>, opts: MapOptions<unknown[]> = {}): AsyncResult<unknown[]> {
    this.#check();
    return this.#withCallbacks(this.#mapAll(fn, iterable, true, opts), opts);
  }

  /** Results of `fn(item)` in order, as they are ready; items are read as they are needed (up to 4 × workers jobs ahead). Default chunkSize 1. */
  imap<K extends TaskName<M>>(fn: K, iterable: Iterable<unknown> | AsyncIterable<unknown>, opts: MapOptions = {}): AsyncIterable<unknown> {
    this.#check();
    return this.#imap(fn, iterable, true, opts);
  }

  /** Results of `fn(item)` in the order they finish. Default chunkSize 1. */
  imapUnordered<K extends TaskName<M>>(fn: K, iterable: Iterable<unknown> | AsyncIterable<unknown>, opts: MapOptions = {}): AsyncIterable<unknown> {
    this.#check();
    return this.#imap(fn, iterable, false, opts);
  }

  async *#imap(fn: unknown, iterable: Iterable<unknown> | AsyncIterable<unknown>, ordered: boolean, opts: MapOptions): AsyncGenerator<unknown> {
    const size = opts.chunkSize === undefined ? 1 : checkInt(opts.chunkSize, "chunkSize", 1);
    const signal = checkSignal(opts.signal);
    const ahead = 4 * Math.max(1, this.#children.size, await (await this.#link.cmd).scard(this.#k("workers")));
    const it = (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]?.() ?? (iterable as Iterable<unknown>)[Symbol.iterator]();
    const inflight: { seq: number; p: Promise<{ seq: number; values: unknown[] }> }[] = [];
    let seq = 0;
    let ended = false;
    let done = 0;
    const fill = async (): Promise<void> => {
      while (!ended && inflight.length < ahead) {
        const chunk: unknown[] = [];
        while (chunk.length < size) {
          const r = await it.next();
          if (r.done) {
            ended = true;
            break;
          }
          chunk.push(r.value);
        }
        if (chunk.length === 0) break;
        const s = seq++;
        const p = this.#submit(fn, chunk, false, signal).then((values) => ({ seq: s, values }));
        p.catch(() => {});
        inflight.push({ seq: s, p });
      }
    };
    await fill();
    while (inflight.length > 0) {
      let got: { seq: number; values: unknown[] };
      if (ordered) got = await inflight[0].p;
      else got = await Promise.race(inflight.map((x) => x.p));
      inflight.splice(inflight.findIndex((x) => x.seq === got.seq), 1);
      done += got.values.length;
      opts.onProgress?.(done, undefined);
      await fill();
      yield* got.values;
    }
  }

  /** What this client has seen so far. */
  async metrics(): Promise<RedisPoolMetrics> {
    const workers = await (await this.#link.cmd).scard(this.#k("workers"));
    return { ...this.#stats, pending: this.#pending.size, workers };
  }

  /** No more tasks: jobs already sent still run (`join` waits for them). */
  close(): void {
    if (this.#state === "run") this.#state = "close";
  }

  /**
   * Stops now: this client's jobs that no worker has started are taken back, pending results
   * reject with ClosedError, and the workers this pool started are stopped.
   */
  async terminate(): Promise<void> {
    if (this.#state === "terminate") return;
    this.#state = "terminate";
    const err = new ClosedError(`Pool ${this.name} was terminated`);
    const c = await this.#link.cmd.catch(() => undefined);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    if (c) await Promise.all(pending.map((p) => c.lrem(this.#k("jobs"), 1, p.bytes).catch(() => 0)));
    for (const p of pending) p.reject(err);
    this.#settled();
    await this.#stop();
  }

  /** Waits until every job sent has its result (after `close`), then stops this pool's workers and connections. */
  async join(opts: { timeout?: number } = {}): Promise<void> {
    if (this.#state === "run") throw new InvalidStateError("join() before close() or terminate()");
    const timeout = checkTimeout(opts.timeout);
    if (this.#pending.size > 0) {
      await new Promise<void>((resolve, reject) => {
        const t = timeout === Infinity ? undefined : setTimeout(() => {
          this.#idle.delete(f);
          reject(new TimeoutError(`Pool ${this.name}: jobs still out after ${timeout} ms`));
        }, timeout);
        const f = (): void => {
          this.#idle.delete(f);
          clearTimeout(t);
          resolve();
        };
        this.#idle.add(f);
      });
    }
    await this.#stop();
  }

  async #stop(): Promise<void> {
    clearInterval(this.#reapTimer);
    // SIGTERM (and the IPC channel closed, which a worker also takes as "stop"); one that has not
    // exited after STOP_GRACE_MS (a signal that came before its handler did, a task that never
    // ends) is killed
    const exits = [...this.#children].map((ch) => new Promise<void>((resolve) => {
      if (ch.exitCode !== null || ch.signalCode !== null) return resolve();
      const kill = setTimeout(() => ch.kill("SIGKILL"), STOP_GRACE_MS);
      ch.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      ch.kill("SIGTERM");
      if (ch.connected) ch.disconnect();
    }));
    await Promise.all(exits);
    this.#link.close();
  }

  /** `await using pool = new Pool(...)`: terminate. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }
}

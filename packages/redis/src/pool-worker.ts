/**
 * A worker of a distributed Pool: takes jobs from Redis, runs the named export of its own task
 * module on each item, and sends the results back. What a job names is only looked up among the
 * module's own exported functions: nothing in a job can make the worker load code.
 */
import { pathToFileURL } from "node:url";
import { isAbsolute, resolve } from "node:path";
import { IpcError, MessageTooLargeError, SerializationError } from "@ipc/core";
import { checkInt, serializeAt } from "@ipc/core/internal";
import { DEFAULT_MAX_VALUE_BYTES, decode } from "./codec.js";
import { type BlockingClient, checkName, type Connection, keyOf, Link } from "./connection.js";
import { uniqueId } from "./ids.js";
import { OrphanCheck } from "./orphans.js";
import { FINISH, LEAVE_WORKER, parseJob, REAP_WORKERS, RESULT_TTL_S, MOVE_SOME } from "./pool-protocol.js";
import { blockSeconds } from "./waiter.js";

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** Where Redis is. */
  connection: Connection;
  /** The pool's name. */
  name: string;
  /** Key prefix; default `'ipc'`. */
  prefix?: string;
  /** File URL or path of the module whose exported functions are the tasks. */
  module: string | URL;
  /** Jobs this worker runs at once (for async tasks that mostly wait); default 1. */
  concurrency?: number;
  /**
   * Jobs each of its task slots takes at once when more are waiting, as Celery's prefetch
   * (default 4): fewer round trips for small jobs; 1 leaves every waiting job to whichever worker
   * is free first (for long jobs).
   */
  prefetch?: number;
  /** Milliseconds the worker's lease lasts without renewal; default 30,000. Its jobs go back to the queue (or fail with WorkerLostError) once it has expired. */
  leaseMs?: number;
  /** Name of an exported function run once before the first job. */
  initializer?: string;
  /** Arguments of the initializer. */
  initArgs?: unknown[];
  /** Largest encoded result in bytes; default 16 MiB. */
  maxValueBytes?: number;
  /** Stops taking jobs; `runWorker` resolves once the running ones are done. */
  signal?: AbortSignal;
  /** Called once the worker is registered and waiting for jobs. */
  onReady?: (workerId: string) => void;
}

type Job = { fn: string; items: unknown[]; star: boolean };
type Fn = (...args: unknown[]) => unknown;

function moduleHref(m: string | URL): string {
  if (m instanceof URL) return m.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(m) && !/^[a-z]:[\\/]/i.test(m)) return m;
  return pathToFileURL(isAbsolute(m) ? m : resolve(m)).href;
}

/** The task function `name` of `ns`: an own export that is a function, or an error saying why not. */
function taskOf(ns: Record<string, unknown>, name: unknown): Fn {
  if (typeof name !== "string" || !Object.hasOwn(ns, name) || typeof ns[name] !== "function") {
    throw new IpcError(`the task module has no exported function ${JSON.stringify(name)}`);
  }
  return ns[name] as Fn;
}

function encodeResult(value: unknown, max: number): Buffer {
  const body = serializeAt(value, "result") as Buffer;
  if (body.length + 1 > max) throw new MessageTooLargeError(`the result is ${body.length} bytes encoded, more than maxValueBytes (${max})`);
  return Buffer.concat([Buffer.from("R"), body]);
}

/**
 * Runs a worker of the pool `name` in this process until `signal` aborts. Resolves once the jobs
 * it was running are finished and it has left.
 */
export async function runWorker(opts: WorkerOptions): Promise<void> {
  const name = checkName(opts.name);
  const prefix = opts.prefix ?? "ipc";
  const k = (part: string): string => keyOf(prefix, name, part);
  const concurrency = opts.concurrency === undefined ? 1 : checkInt(opts.concurrency, "concurrency", 1);
  const prefetch = opts.prefetch === undefined ? 4 : checkInt(opts.prefetch, "prefetch", 1);
  const leaseMs = opts.leaseMs === undefined ? 30_000 : checkInt(opts.leaseMs, "leaseMs", 30);
  const max = opts.maxValueBytes === undefined ? DEFAULT_MAX_VALUE_BYTES : checkInt(opts.maxValueBytes, "maxValueBytes", 16);
  const ns = (await import(moduleHref(opts.module))) as Record<string, unknown>;
  if (opts.initializer !== undefined) await taskOf(ns, opts.initializer)(...(opts.initArgs ?? []));
  const id = uniqueId();
  const link = new Link(opts.connection);
  const c = await link.cmd;
  const run = k(`run:${id}`);
  const alive = k(`alive:${id}`);
  const signal = opts.signal;
  const blocking: BlockingClient[] = [];
  let ticks = 0;
  const running = new Set<Buffer>();
  const orphans = new OrphanCheck(run, k("jobs"));
  const renew = async (): Promise<void> => {
    await c.multi().sadd(k("workers"), id).set(alive, "1", "PX", leaseMs).exec();
    if (ticks > 0) await orphans.check(c, [...running]);
    if (ticks++ % 3 === 0) await REAP_WORKERS.run(c, [k("workers"), k("jobs"), k("tries")], [k(""), RESULT_TTL_S]);
  };
  await renew();
  const timer = setInterval(() => void renew().catch(() => {}), Math.max(10, Math.floor(leaseMs / 3)));
  const onAbort = (): void => {
    for (const b of blocking) void link.unblock(b);
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  /** Runs one job; resolves once its result is on its way (`sent`: once it is in Redis). */
  const runJob = async (bytes: Buffer): Promise<{ sent: Promise<unknown> }> => {
    const head = parseJob(bytes);
    if (head === undefined) {
      // not a job of ours: drop it rather than fail on it forever
      return { sent: c.lrem(run, -1, bytes) };
    }
    let result: Buffer;
    try {
      const job = decode<Job>(head.payload);
      if (typeof job !== "object" || job === null || !Array.isArray(job.items)) throw new SerializationError("malformed job");
      const f = taskOf(ns, job.fn);
      const values: unknown[] = [];
      for (const item of job.items) values.push(await (job.star ? f(...(item as unknown[])) : f(item)));
      result = encodeResult({ job: head.job, ok: true, values }, max);
    } catch (error) {
      try {
        result = encodeResult({ job: head.job, ok: false, error }, max);
      } catch (e) {
        result = encodeResult({ job: head.job, ok: false, error: new SerializationError(`the task's error could not be sent: ${(e as Error).message}`) }, max);
      }
    }
    return { sent: FINISH.run(c, [run, k(`res:${head.client}`), k("tries")], [bytes, result, `${head.client} ${head.job}`, RESULT_TTL_S]) };
  };

  const slot = async (): Promise<void> => {
    const b = await link.blocking();
    blocking.push(b);
    while (!signal?.aborted) {
      const bytes = await b.client.blmoveBuffer(k("jobs"), run, "RIGHT", "LEFT", blockSeconds(Infinity));
      if (bytes === null) continue;
      const batch = [bytes];
      running.add(bytes);
      if (prefetch > 1) {
        for (const more of (await MOVE_SOME.run(c, [k("jobs"), run], [prefetch - 1])) as Buffer[]) {
          batch.push(more);
          running.add(more);
        }
      }
      // results go out without waiting for each other: one round trip for the batch
      const sent: Promise<unknown>[] = [];
      for (const job of batch) {
        try {
          const { sent: p } = await runJob(job);
          sent.push(p.finally(() => running.delete(job)));
        } catch (e) {
          running.delete(job);
          throw e;
        }
      }
      await Promise.all(sent);
    }
  };

  try {
    opts.onReady?.(id);
    await Promise.all(Array.from({ length: concurrency }, slot));
  } finally {
    clearInterval(timer);
    signal?.removeEventListener("abort", onAbort);
    // leave: jobs still in the run list (taken, no result stored: a slot failed) go back to the
    // head of the queue; if Redis is unreachable now, the lease runs out and a reaper does it
    await LEAVE_WORKER.run(c, [k("workers"), alive, run, k("jobs")], [id]).catch(() => {});
    link.close();
  }
}

import type { ResourceLimits } from "node:worker_threads";
import type { Context } from "@ipc/process";

/** Options of {@link Pool}. */
export interface PoolOptions {
  /** File URL or path of the module that exports the task functions. */
  module: string | URL;
  /** Number of workers; default `cpuCount()`. */
  processes?: number;
  /** Name of an exported function each worker runs once before any task. */
  initializer?: string;
  /** Arguments of the initializer. */
  initArgs?: unknown[];
  /** A worker is replaced by a fresh one after this many tasks (a map chunk counts as one); default unlimited. */
  maxTasksPerChild?: number;
  /** `'thread'` (default) or `'process'`. */
  context?: Context;
  /** Heap limits of thread workers; a worker that runs out of memory fails its task with WorkerLostError. */
  resourceLimits?: ResourceLimits;
}

/** Options of one submission. */
export interface SubmitOptions<R = unknown> {
  /** Called with the result. */
  callback?: (result: R) => void;
  /** Called with the error. */
  errorCallback?: (error: unknown) => void;
  /** Aborting removes a queued task, or ends the worker running it (a new one takes its place). */
  signal?: AbortSignal;
}

/** Options of map-like calls. */
export interface MapOptions<R = unknown> extends SubmitOptions<R> {
  /** Items per task; default for map as Python computes it, 1 for imap. */
  chunkSize?: number;
  /** Called as chunks complete, with items done and the total (when known). */
  onProgress?: (done: number, total: number | undefined) => void;
}

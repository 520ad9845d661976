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
  /**
   * Tasks one worker runs at once (piscina's option): raise it for async tasks that mostly wait
   * (I/O, timers). Default 1, as Python's workers, where a worker takes only what it can start.
   */
  concurrentTasksPerWorker?: number;
  /** Heap limits of thread workers; a worker that runs out of memory fails its task with WorkerLostError. */
  resourceLimits?: ResourceLimits;
}

/** Options of one submission. */
export interface SubmitOptions<R = unknown> {
  /** Called with the result. */
  callback?: (result: R) => void;
  /** Called with the error. */
  errorCallback?: (error: unknown) => void;
  /**
   * Aborting rejects the task at once with the signal's reason. A task that has not started (in
   * the pool's queue, or sent ahead to a worker) never runs; a running one ends its worker (a new
   * one takes its place), unless the worker runs several tasks at once
   * (`concurrentTasksPerWorker` > 1): then the task runs on and its result is dropped.
   */
  signal?: AbortSignal;
}

/** Options of map-like calls. */
export interface MapOptions<R = unknown> extends SubmitOptions<R> {
  /** Items per task; default for map as Python computes it, 1 for imap. */
  chunkSize?: number;
  /** Called as chunks complete, with items done and the total (when known). */
  onProgress?: (done: number, total: number | undefined) => void;
}

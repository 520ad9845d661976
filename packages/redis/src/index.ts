export { Queue } from "./queue.js";
export type { QueueOptions, QueueWaitOptions, ShutdownOptions } from "./queue.js";
export { JoinableQueue } from "./joinable-queue.js";
export { SimpleQueue } from "./simple-queue.js";
export type { SimpleQueueOptions } from "./simple-queue.js";
export { RedisConnectionError } from "./errors.js";
export type { Connection, RedisObjectOptions } from "./connection.js";
export { DEFAULT_MAX_VALUE_BYTES } from "./codec.js";
export {
  AuthenticationError,
  ClosedError,
  EmptyError,
  FullError,
  InvalidStateError,
  IpcError,
  MessageTooLargeError,
  SerializationError,
  ShutDownError,
  TimeoutError,
  WorkerLostError,
} from "@ipc/core";
export { Semaphore } from "./semaphore.js";
export type { AcquireOptions, SemaphoreOptions } from "./semaphore.js";
export { Lock } from "./lock.js";
export type { LockOptions } from "./lock.js";
export { Event } from "./event.js";
export type { EventWaitOptions } from "./event.js";
export { Dict } from "./dict.js";
export { List } from "./list.js";
export type { DataOptions } from "./redis-object.js";
export { Pool } from "./pool.js";
export type { PoolOptions, RedisPoolMetrics } from "./pool.js";
export { runWorker } from "./pool-worker.js";
export type { WorkerOptions } from "./pool-worker.js";
export { AsyncResult } from "@ipc/pool";
export type { MapOptions, SubmitOptions, ResultWaitOptions } from "@ipc/pool";
export { Manager, RedisManager } from "./manager.js";
export type { ManagerOptions, MakeOptions } from "./manager.js";

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

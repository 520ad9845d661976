export { Queue } from "./queue.js";
export { JoinableQueue } from "./joinable-queue.js";
export { SimpleQueue } from "./simple-queue.js";
export { DEFAULT_RING_SIZE } from "./options.js";
export type { QueueOptions, QueueWaitOptions, QueueWaitSyncOptions, ShutdownOptions } from "./options.js";
export { ClosedError, EmptyError, FullError, InvalidStateError, IpcError, SerializationError, ShutDownError } from "@ipc/core";

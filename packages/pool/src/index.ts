export { Pool } from "./pool.js";
export type { TaskRef } from "./pool.js";
export { AsyncResult } from "./async-result.js";
export type { ResultWaitOptions } from "./async-result.js";
export type { PoolOptions, SubmitOptions, MapOptions } from "./options.js";
export type { PoolMetrics, Percentiles } from "./metrics.js";
export { ClosedError, InvalidStateError, IpcError, ProcessError, SerializationError, TimeoutError, WorkerLostError } from "@ipc/core";

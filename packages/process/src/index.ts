export { Process } from "./process.js";
export type { ProcessOptions, Context, Target } from "./options.js";
export { activeChildren } from "./children.js";
export { currentProcess, parentProcess, isMainProcess } from "./identity.js";
export type { ProcessInfo } from "./identity.js";
export { cpuCount } from "./cpu-count.js";
export { ClosedError, InvalidStateError, IpcError, ProcessError, SerializationError, TimeoutError, WorkerLostError } from "@ipc/core";

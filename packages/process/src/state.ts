/** Key of a Process object's internal state: a registered symbol, so every copy of the package agrees, and never serialized. */
export const PROCESS_STATE: unique symbol = Symbol.for("@ipc/process:state") as never;

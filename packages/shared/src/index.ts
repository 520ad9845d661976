export { Value, RawValue } from "./value.js";
export type { ValueOptions } from "./value.js";
export { SharedArray, RawArray } from "./shared-array.js";
export type { SharedArrayOptions } from "./shared-array.js";
export { SharedStruct } from "./shared-struct.js";
export type { FieldLayout, FieldValues, SharedStructConstructor, SharedStructOptions, StructFields } from "./shared-struct.js";
export type { ElementOf, Typecode } from "./typecodes.js";
export type { LockOption } from "./lock-option.js";
export { ClosedError, InvalidStateError, IpcError, SerializationError } from "@ipc/core";

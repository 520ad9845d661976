export { Pipe } from "./pipe.js";
export type { PipeOptions } from "./pipe.js";
export { Connection } from "./connection.js";
export type { RecvOptions, RecvSyncOptions } from "./connection.js";
export { wait } from "./wait.js";
export { Listener, Client } from "./listener.js";
export type { ListenerOptions, ListenerAddress, ClientOptions } from "./listener.js";
export {
  AuthenticationError,
  BrokenPipeError,
  BufferTooShortError,
  ClosedError,
  EOFError,
  InvalidStateError,
  IpcError,
  MessageTooLargeError,
  ProtocolError,
  SerializationError,
  TimeoutError,
} from "@ipc/core";

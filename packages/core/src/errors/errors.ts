/**
 * Error classes of @ipc. Every class has a stable `name` equal to its class name and a stable
 * `code`, so errors can be told apart after they cross a thread or process boundary (the codec
 * revives them by name, keeping the remote message, stack and cause).
 */

const IPC_ERROR = Symbol.for("@ipc/core:IpcError");

/** Options accepted by every `@ipc` error constructor. */
export interface IpcErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
}

/** Base class of every error thrown by @ipc. */
export class IpcError extends Error {
  /** Stable machine-readable code, e.g. `ERR_IPC_EMPTY`. */
  readonly code: string = "ERR_IPC";

  constructor(message = "", options?: IpcErrorOptions) {
    super(message, options);
    Object.defineProperty(this, IPC_ERROR, { value: true });
  }

  /** True for an `@ipc` error, even one from another copy of this package. */
  static isIpcError(value: unknown): value is IpcError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[IPC_ERROR] === true;
  }
}

function define(name: string, code: string, parent: typeof IpcError = IpcError): typeof IpcError {
  const cls = {
    [name]: class extends parent {
      override readonly code: string = code;
    },
  }[name];
  Object.defineProperty(cls.prototype, "name", { value: name, writable: true, configurable: true });
  return cls;
}

Object.defineProperty(IpcError.prototype, "name", { value: "IpcError", writable: true, configurable: true });

/** A non-blocking or timed `get` found the queue empty (Python: `queue.Empty`). */
export const EmptyError = define("EmptyError", "ERR_IPC_EMPTY");
/** An instance of {@link EmptyError}. */
export type EmptyError = InstanceType<typeof EmptyError>;
/** A non-blocking or timed `put` found the queue full (Python: `queue.Full`). */
export const FullError = define("FullError", "ERR_IPC_FULL");
/** An instance of {@link FullError}. */
export type FullError = InstanceType<typeof FullError>;
/** The queue was shut down (Python: `queue.ShutDown`). */
export const ShutDownError = define("ShutDownError", "ERR_IPC_SHUT_DOWN");
/** An instance of {@link ShutDownError}. */
export type ShutDownError = InstanceType<typeof ShutDownError>;
/** `recv` when the other end closed and nothing is left (Python: `EOFError`). */
export const EOFError = define("EOFError", "ERR_IPC_EOF");
/** An instance of {@link EOFError}. */
export type EOFError = InstanceType<typeof EOFError>;
/** Use of an object after its own `close()` (Python: `ValueError` / `OSError`). */
export const ClosedError = define("ClosedError", "ERR_IPC_CLOSED");
/** An instance of {@link ClosedError}. */
export type ClosedError = InstanceType<typeof ClosedError>;
/** A send on a connection whose other end is closed (Python: `BrokenPipeError`). */
export const BrokenPipeError = define("BrokenPipeError", "ERR_IPC_BROKEN_PIPE");
/** An instance of {@link BrokenPipeError}. */
export type BrokenPipeError = InstanceType<typeof BrokenPipeError>;
/** A buffer given to `recvBytesInto` is too small; `message` holds the whole message. */
export const BufferTooShortError = define("BufferTooShortError", "ERR_IPC_BUFFER_TOO_SHORT");
/** An instance of {@link BufferTooShortError}. */
export type BufferTooShortError = InstanceType<typeof BufferTooShortError>;
/** The peer failed the authkey challenge, or we failed its challenge. */
export const AuthenticationError = define("AuthenticationError", "ERR_IPC_AUTHENTICATION");
/** An instance of {@link AuthenticationError}. */
export type AuthenticationError = InstanceType<typeof AuthenticationError>;
/** A barrier was broken (reset, aborted or timed out) while a party waited on it. */
export const BrokenBarrierError = define("BrokenBarrierError", "ERR_IPC_BROKEN_BARRIER");
/** An instance of {@link BrokenBarrierError}. */
export type BrokenBarrierError = InstanceType<typeof BrokenBarrierError>;
/** An operation that raises on timeout in Python (`AsyncResult.get`, ...) timed out. */
export const TimeoutError = define("TimeoutError", "ERR_IPC_TIMEOUT");
/** An instance of {@link TimeoutError}. */
export type TimeoutError = InstanceType<typeof TimeoutError>;
/** An exception raised in a manager's server; keeps the remote name and stack. */
export const RemoteError = define("RemoteError", "ERR_IPC_REMOTE");
/** An instance of {@link RemoteError}. */
export type RemoteError = InstanceType<typeof RemoteError>;
/** A process could not be started, joined or controlled as asked. */
export const ProcessError = define("ProcessError", "ERR_IPC_PROCESS");
/** An instance of {@link ProcessError}. */
export type ProcessError = InstanceType<typeof ProcessError>;
/** A pool worker died while it ran a task. */
export const WorkerLostError = define("WorkerLostError", "ERR_IPC_WORKER_LOST", ProcessError);
/** An instance of {@link WorkerLostError}. */
export type WorkerLostError = InstanceType<typeof WorkerLostError>;
/** A value cannot be serialized; the message names the path to it, e.g. `args[0].cb: function`. */
export const SerializationError = define("SerializationError", "ERR_IPC_SERIALIZATION");
/** An instance of {@link SerializationError}. */
export type SerializationError = InstanceType<typeof SerializationError>;
/** A frame on a connection was malformed, truncated or larger than allowed. */
export const ProtocolError = define("ProtocolError", "ERR_IPC_PROTOCOL");
/** An instance of {@link ProtocolError}. */
export type ProtocolError = InstanceType<typeof ProtocolError>;
/** A method was called in a state that does not allow it (Python: `ValueError`/`AssertionError`). */
export const InvalidStateError = define("InvalidStateError", "ERR_IPC_INVALID_STATE");
/** An instance of {@link InvalidStateError}. */
export type InvalidStateError = InstanceType<typeof InvalidStateError>;
/**
 * A message larger than the `maxMessageSize` its connection was given, refused before anything of
 * it was sent (the connection stays usable).
 */
export const MessageTooLargeError = define("MessageTooLargeError", "ERR_IPC_MESSAGE_TOO_LARGE");
/** An instance of {@link MessageTooLargeError}. */
export type MessageTooLargeError = InstanceType<typeof MessageTooLargeError>;

/** Every `@ipc` error class by name, used to revive errors that crossed a boundary. */
export const errorClasses: ReadonlyMap<string, new (message?: string, options?: IpcErrorOptions) => Error> = new Map<
  string,
  new (message?: string, options?: IpcErrorOptions) => Error
>([
  ["IpcError", IpcError],
  ["EmptyError", EmptyError],
  ["FullError", FullError],
  ["ShutDownError", ShutDownError],
  ["EOFError", EOFError],
  ["ClosedError", ClosedError],
  ["BrokenPipeError", BrokenPipeError],
  ["BufferTooShortError", BufferTooShortError],
  ["AuthenticationError", AuthenticationError],
  ["BrokenBarrierError", BrokenBarrierError],
  ["TimeoutError", TimeoutError],
  ["RemoteError", RemoteError],
  ["ProcessError", ProcessError],
  ["WorkerLostError", WorkerLostError],
  ["SerializationError", SerializationError],
  ["ProtocolError", ProtocolError],
  ["InvalidStateError", InvalidStateError],
  ["MessageTooLargeError", MessageTooLargeError],
  ["Error", Error],
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
]);

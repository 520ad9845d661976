/**
 * Wire messages between a remote client and a broker, each one frame of codec bytes. Arguments and
 * results travel as nested codec bytes so the client worker forwards them without decoding.
 */

/** Client → broker: call `method` of object `obj` with serialized `args`. */
export interface CallMessage {
  t: "call";
  id: number;
  obj: number;
  m: string;
  a: Uint8Array;
}
/** Client → broker: abandon call `id` (its AbortSignal fired). */
export interface CancelMessage {
  t: "cancel";
  id: number;
}
/**
 * Client → broker: hand this connection over to object `obj` as a stream (its `attach` method);
 * no broker message follows on the connection.
 */
export interface AttachMessage {
  t: "attach";
  obj: number;
  a: unknown[];
}
/** Broker → client: call `id` returned serialized `v`. */
export interface OkMessage {
  t: "ok";
  id: number;
  v: Uint8Array;
}
/** Broker → client: call `id` threw `e`. */
export interface ErrMessage {
  t: "err";
  id: number;
  e: unknown;
}

/** Every client → broker message. */
export type ClientMessage = CallMessage | CancelMessage | AttachMessage;
/** Every broker → client message. */
export type BrokerMessage = OkMessage | ErrMessage;

/** Where a remote object lives: its home broker's address and the object's id there. */
export interface RemoteRef {
  address: string;
  id: number;
}

/** Home thread → broker worker: serve this object (handle bytes, thread target, with shared buffers). */
export interface RegisterMessage {
  id: number;
  bytes: Uint8Array;
  shared: SharedArrayBuffer[];
}

/** Home thread → broker worker: run `module`'s export `name` with the codec-encoded `a`. */
export interface TaskMessage {
  t: "task";
  id: number;
  module: string;
  name: string;
  a: Uint8Array;
  shared: SharedArrayBuffer[];
  /** Reply on the sync port and raise the flag. */
  sync: boolean;
}

/** Broker worker → home thread: the task's codec-encoded result (`ok`) or error. */
export interface TaskReply {
  id: number;
  ok: boolean;
  v: Uint8Array;
  shared?: SharedArrayBuffer[];
}

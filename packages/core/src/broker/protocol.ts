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
export type ClientMessage = CallMessage | CancelMessage;
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

/**
 * How the server calls the built-in synchronization objects: with the calling client and a signal
 * that aborts when the call is cancelled or its client disconnects, so that a wait never outlives
 * the one who waits; and how it tells them a client is gone (its locks are released).
 */

/** Who calls, and until when the call matters. */
export interface CallContext {
  /** The connection the call came on: one per client thread (isolate) and manager. */
  readonly client: number;
  /** Aborted when the client cancels the call (its AbortSignal) or disconnects. */
  readonly signal: AbortSignal;
  /** Aborted when the client disconnects (only). */
  readonly closed: AbortSignal;
}

/** A served object that wants the call context: the server calls `obj[CALL](method, args, ctx)`. */
export const CALL: unique symbol = Symbol("@ipc/manager:call");
/** A served object that holds something for a client: the server calls `obj[RELEASE](client)` when it disconnects. */
export const RELEASE: unique symbol = Symbol("@ipc/manager:release");

/** A served object with the call context. */
export interface ContextualObject {
  [CALL](method: string, args: unknown[], ctx: CallContext): unknown;
  [RELEASE]?(client: number): void;
}

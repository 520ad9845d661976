/**
 * How the server calls the objects it serves: each served class has an `exposed` table (core's
 * `Exposed`, the one the broker serves shared objects with), whose methods get the call's context:
 * the calling client and a signal that aborts when the call is cancelled or its client disconnects,
 * so that a wait never outlives the one who waits. A served object that holds something for a
 * client (a lock) is told when that client is gone.
 */
import type { Exposed } from "@ipc/core/internal";

/** Who calls, and until when the call matters. */
export interface CallContext {
  /** The connection the call came on: one per client thread (isolate) and manager. */
  readonly client: number;
  /** Aborted when the client cancels the call (its AbortSignal) or disconnects. */
  readonly signal: AbortSignal;
  /** Aborted when the client disconnects (only). */
  readonly closed: AbortSignal;
}

/** The methods a manager serves on objects of type `T`, by name. */
export type Served<T> = Exposed<T, CallContext>;

/** A served object that holds something for a client: the server calls `obj[RELEASE](client)` when it disconnects. */
export const RELEASE: unique symbol = Symbol("@ipc/manager:release");

/** A served object that lets go of what a client held. */
export interface HoldsForClients {
  [RELEASE](client: number): void;
}

/**
 * The table that serves the methods `names` of an object as they are (Python's `exposed` list of
 * a registered type): each calls the object's own method with the call's arguments.
 */
export function servedMethods(names: readonly string[]): Served<object> {
  const table: Record<string, (target: object, args: unknown[]) => unknown> = {};
  for (const name of names) {
    table[name] = (target, args) => {
      const fn = (target as Record<string, unknown>)[name];
      if (typeof fn !== "function") throw new TypeError(`${target.constructor.name} has no method ${name}`);
      return (fn as (...a: unknown[]) => unknown).apply(target, args);
    };
  }
  return table;
}

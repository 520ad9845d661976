/**
 * Handing @ipc/redis objects to a child (`new Process({ args: [queue] })`, thread or process):
 * the handle carries the connection and the name, and the child opens its own connection to the
 * same object. These types are never revived from a network peer: their state names a server
 * to connect to, with credentials.
 */
import { registerHandleType, type HandleDescriptor } from "@ipc/core";
import { connectionData, type Connection } from "./connection.js";

/** The state of a handle: the constructor options, as data. */
export type HandleState = Record<string, unknown> & { connection: Connection };

/** The handle of an object of type `kind` built from `opts`. */
export function describeHandle(kind: string, opts: HandleState, module: string): HandleDescriptor {
  return { type: `@ipc/redis:${kind}`, module, state: { ...opts, connection: connectionData(opts.connection) } };
}

/** Registers how a child revives `kind`. */
export function registerRedisHandle(kind: string, revive: (state: HandleState) => unknown): void {
  registerHandleType(`@ipc/redis:${kind}`, (state: HandleState) => revive(state));
}

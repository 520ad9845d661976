/**
 * Messages between manager clients and a manager server, one frame of codec bytes each, over an
 * authenticated connection. Client messages are decoded by the server as a network peer's: data
 * only (no handle is revived but a {@link ProxyRef}, which is itself data).
 */

/**
 * Client → server. `create`: a new object of `typeid` from `args`; `call`: method `m` of object
 * `obj`; `cancel`: the call `id` is no longer wanted (its wait ends; no reply of its own).
 */
export type Request =
  | { t: "create"; id: number; typeid: string; args: unknown[] }
  | { t: "call"; id: number; obj: number; m: string; args: unknown[] }
  | { t: "shutdown"; id: number }
  | { t: "cancel"; id: number };

/** A request before its id is given. */
export type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/** Server → client: the result of request `id`, or the error it threw. */
export type Reply = { t: "ok"; id: number; v: unknown } | { t: "err"; id: number; e: unknown };

/** What a proxy refers to: an object of a manager server. Plain data: safe to revive from a peer. */
export interface ProxyRef {
  address: string | { host: string; port: number };
  id: number;
  typeid: string;
}

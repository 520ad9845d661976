/**
 * Messages between manager clients and a manager server, one frame of codec bytes each, over an
 * authenticated connection. Client messages are decoded by the server as a network peer's: data
 * only (no handle is revived but a {@link ProxyRef}, which is itself data).
 */

/**
 * Client → server. `create`: a new object of `typeid` from `args` (the client holds one reference
 * to it); `call`: method `m` of object `obj`; `count`: how many objects the server holds;
 * `cancel`: the call `id` is no longer wanted (its wait ends; no reply of its own). `incref` and
 * `decref` (no reply): the client takes or gives back references (`refs`: `[object, n]` pairs).
 * References are counted per connection: when one closes, every reference it held is dropped, and
 * an object nobody holds a reference to is deleted (see server.ts).
 */
export type Request =
  | { t: "create"; id: number; typeid: string; args: unknown[] }
  | { t: "call"; id: number; obj: number; m: string; args: unknown[] }
  | { t: "count"; id: number }
  | { t: "shutdown"; id: number }
  | { t: "cancel"; id: number }
  | { t: "incref"; id: number; refs: [number, number][] }
  | { t: "decref"; id: number; refs: [number, number][] };

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

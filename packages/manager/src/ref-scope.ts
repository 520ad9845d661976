/**
 * How proxies are counted as they cross a connection. A manager server counts references to its
 * objects per client connection (server.ts); a proxy takes part in that count in one of three ways,
 * decided where it is serialized or revived:
 *
 * - serialized into a server's reply, a proxy of that server is counted for the receiving client,
 *   and the client's revived proxy owns that reference (gives it back when collected or released);
 * - revived inside a request by the server it refers to, it is counted for the server itself
 *   (a container holding it keeps the object alive) until that proxy object is collected;
 * - anywhere else (a proxy handed to a thread or process child, or one of another manager), the
 *   sender takes a reference on its own connection, which pins the object while the sender stays
 *   connected, and the receiver takes one of its own when it revives the proxy.
 *
 * The code serializing or decoding sets the scope for the duration of that one synchronous call.
 */
import type { ProxyRef } from "./protocol.js";

/** What the current serialization or decoding does with proxies. */
export interface RefScope {
  /** A proxy is being serialized: true when its reference is counted for the receiver already. */
  sent(ref: ProxyRef): boolean;
  /** A proxy was revived: true when the server took the reference (its own object). */
  revived(ref: ProxyRef, proxy: object): boolean;
}

let scope: RefScope | undefined;

/** Runs `fn` with `s` as the scope (restoring the one before). */
export function withRefScope<T>(s: RefScope, fn: () => T): T {
  const before = scope;
  scope = s;
  try {
    return fn();
  } finally {
    scope = before;
  }
}

/** The scope of the serialization or decoding running now, if any. */
export function currentRefScope(): RefScope | undefined {
  return scope;
}

export { BaseProxy } from "./base-proxy.js";

/**
 * Proxies: a reference to an object of a manager server, whose every method is an async call to
 * it. A proxy is shareable: handed to a thread or a child process (as an argument or inside a
 * message), or stored inside another proxy's container, it refers to the same object there.
 */
import { registerHandleType, serialize } from "@ipc/core";
import { trackPendingWrite } from "@ipc/core/internal";
import { BaseProxy, ownReference, PROXY_HANDLE_TYPE } from "./base-proxy.js";
import { decodingAuthkey, decodingReplyOf } from "./client.js";
import { currentRefScope } from "./ref-scope.js";
import type { ProxyRef } from "./protocol.js";
import { ArrayProxy, ValueProxy } from "./proxies/value-proxies.js";
import { BarrierProxy, EventProxy } from "./proxies/event-proxies.js";
import { ConditionProxy, LockProxy, SemaphoreProxy } from "./proxies/lock-proxies.js";
import { QueueProxy } from "./proxies/queue-proxy.js";

/** A proxy to a manager dict: keys keep their type (`65` and `"65"` are two keys). */
export class DictProxy<K = unknown, V = unknown> extends BaseProxy {
  /** The value of `key`, else `fallback` (undefined). */
  get(key: K, fallback?: V): Promise<V | undefined> {
    return this.callMethod("get", fallback === undefined ? [key] : [key, fallback]) as Promise<V | undefined>;
  }
  set(key: K, value: V): Promise<void> {
    return this.callMethod("set", [key, value]) as Promise<void>;
  }
  has(key: K): Promise<boolean> {
    return this.callMethod("has", [key]) as Promise<boolean>;
  }
  /** @throws RangeError (Python's KeyError) for a missing key. */
  delete(key: K): Promise<boolean> {
    return this.callMethod("delete", [key]) as Promise<boolean>;
  }
  keys(): Promise<K[]> {
    return this.callMethod("keys") as Promise<K[]>;
  }
  values(): Promise<V[]> {
    return this.callMethod("values") as Promise<V[]>;
  }
  items(): Promise<[K, V][]> {
    return this.callMethod("items") as Promise<[K, V][]>;
  }
  size(): Promise<number> {
    return this.callMethod("size") as Promise<number>;
  }
  update(other: Iterable<[K, V]> | Map<K, V> | Record<string, V>): Promise<void> {
    return this.callMethod("update", [other instanceof Map || Array.isArray(other) ? other : Symbol.iterator in Object(other) ? [...(other as Iterable<[K, V]>)] : other]) as Promise<void>;
  }
  /** Removes `key` and returns its value, else `fallback`. @throws RangeError (KeyError) without one. */
  pop(key: K, ...fallback: [V?]): Promise<V> {
    return this.callMethod("pop", [key, ...fallback]) as Promise<V>;
  }
  popitem(): Promise<[K, V]> {
    return this.callMethod("popitem") as Promise<[K, V]>;
  }
  setdefault(key: K, value?: V): Promise<V> {
    return this.callMethod("setdefault", value === undefined ? [key] : [key, value]) as Promise<V>;
  }
  clear(): Promise<void> {
    return this.callMethod("clear") as Promise<void>;
  }
  /** A plain copy of the contents (a Map), not a proxy. */
  copy(): Promise<Map<K, V>> {
    return this.callMethod("copy") as Promise<Map<K, V>>;
  }
}

/** A proxy to a manager list. */
export class ListProxy<T = unknown> extends BaseProxy {
  /** Element `i` (negative counts from the end). @throws RangeError (IndexError). */
  get(i: number): Promise<T> {
    return this.callMethod("get", [i]) as Promise<T>;
  }
  set(i: number, v: T): Promise<void> {
    return this.callMethod("set", [i, v]) as Promise<void>;
  }
  append(v: T): Promise<void> {
    return this.callMethod("append", [v]) as Promise<void>;
  }
  extend(vs: Iterable<T>): Promise<void> {
    return this.callMethod("extend", [[...vs]]) as Promise<void>;
  }
  insert(i: number, v: T): Promise<void> {
    return this.callMethod("insert", [i, v]) as Promise<void>;
  }
  pop(i?: number): Promise<T> {
    return this.callMethod("pop", i === undefined ? [] : [i]) as Promise<T>;
  }
  remove(v: T): Promise<void> {
    return this.callMethod("remove", [v]) as Promise<void>;
  }
  index(v: T): Promise<number> {
    return this.callMethod("index", [v]) as Promise<number>;
  }
  count(v: T): Promise<number> {
    return this.callMethod("count", [v]) as Promise<number>;
  }
  reverse(): Promise<void> {
    return this.callMethod("reverse") as Promise<void>;
  }
  sort(opts: { reverse?: boolean } = {}): Promise<void> {
    return this.callMethod("sort", [opts]) as Promise<void>;
  }
  slice(start?: number, end?: number): Promise<T[]> {
    return this.callMethod("slice", [start, end]) as Promise<T[]>;
  }
  length(): Promise<number> {
    return this.callMethod("length") as Promise<number>;
  }
  toArray(): Promise<T[]> {
    return this.callMethod("toArray") as Promise<T[]>;
  }
}

/** A proxy to a manager Namespace: named attributes. */
export class NamespaceProxy extends BaseProxy {
  /** @internal */
  constructor(ref: ProxyRef, authkey?: Buffer) {
    super(ref, authkey);
    // attributes as properties: `await ns.x` reads, `ns.x = v` writes, `delete ns.x` deletes
    return new Proxy(this, ATTRIBUTES);
  }

  /** @throws RangeError (Python's AttributeError) for a missing name. */
  get(name: string): Promise<unknown> {
    return this.callMethod("get", [name]);
  }
  set(name: string, v: unknown): Promise<void> {
    return this.callMethod("set", [name, v]) as Promise<void>;
  }
  has(name: string): Promise<boolean> {
    return this.callMethod("has", [name]) as Promise<boolean>;
  }
  delete(name: string): Promise<boolean> {
    return this.callMethod("delete", [name]) as Promise<boolean>;
  }
  toObject(): Promise<Record<string, unknown>> {
    return this.callMethod("toObject") as Promise<Record<string, unknown>>;
  }
}

/**
 * Property access on a Namespace proxy (Python's `ns.x`). A read is the promise of `get(name)`; a
 * write is sent at once (in order with the calls after it on this connection) and throws then
 * for a value that cannot be serialized, as Python's setattr does for one that cannot be pickled;
 * a write that fails later (the connection lost) shows at the next awaited call. Names the proxy
 * has itself (`get`, `set`, `ref`, ...) are reached with `get(name)`/`set(name, v)`.
 */
const ATTRIBUTES: ProxyHandler<NamespaceProxy> = {
  get(target, name, receiver) {
    if (typeof name === "symbol" || name in target) return Reflect.get(target, name, receiver) as unknown;
    if (name === "then") return undefined; // not a thenable
    return target.get(name);
  },
  set(target, name, value, receiver) {
    if (typeof name === "symbol" || name in target) return Reflect.set(target, name, value, receiver);
    serialize(value);
    // a child that ends right after the write waits for it (process bootstrap)
    trackPendingWrite(target.set(name, value).catch(() => {}));
    return true;
  },
  deleteProperty(target, name) {
    if (typeof name === "symbol" || name in target) return Reflect.deleteProperty(target, name);
    trackPendingWrite(target.delete(name).catch(() => {}));
    return true;
  },
};

/** A Namespace proxy with its attributes as properties (`await ns.x`, `ns.x = 1`). */
export type NamespaceAttributes = NamespaceProxy & { [name: string]: unknown };

/** A proxy to an object of a registered type: every method name is an async call (the server refuses names it does not expose). */
export type Proxy<T> = BaseProxy & { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

/** The proxy class of each built-in typeid. */
const BUILTIN_PROXIES: Record<string, new (ref: ProxyRef, authkey?: Buffer) => BaseProxy> = {
  dict: DictProxy,
  list: ListProxy,
  Namespace: NamespaceProxy,
  Queue: QueueProxy,
  JoinableQueue: QueueProxy,
  Lock: LockProxy,
  RLock: LockProxy,
  Semaphore: SemaphoreProxy,
  BoundedSemaphore: SemaphoreProxy,
  Condition: ConditionProxy,
  Event: EventProxy,
  Barrier: BarrierProxy,
  Value: ValueProxy,
  Array: ArrayProxy,
};

/** The proxy for `ref`: typed for the built-in types, by method name for registered ones. */
export function proxyFor(ref: ProxyRef, authkey?: Buffer): BaseProxy {
  if (Object.hasOwn(BUILTIN_PROXIES, ref.typeid)) return new BUILTIN_PROXIES[ref.typeid](ref, authkey);
  const base = new BaseProxy(ref, authkey);
  return new Proxy(base, {
    get(target, name, receiver) {
      if (typeof name === "symbol" || name in target) return Reflect.get(target, name, receiver) as unknown;
      if (name === "then") return undefined; // not a thenable
      return (...args: unknown[]) => target.callMethod(name, args);
    },
  });
}

function checkRef(state: unknown): ProxyRef {
  const r = state as ProxyRef;
  const addressOk = typeof r?.address === "string" || (typeof r?.address === "object" && r.address !== null && typeof r.address.host === "string" && Number.isInteger(r.address.port));
  if (!addressOk || !Number.isInteger(r.id) || typeof r.typeid !== "string") throw new TypeError("bad manager proxy");
  return { address: r.address, id: r.id, typeid: r.typeid };
}

// a proxy reference is data (an address, an id, a type name): it may arrive from a peer (a
// manager client storing a proxy in a dict); it connects only when a method is called
registerHandleType(
  PROXY_HANDLE_TYPE,
  (state) => {
    const ref = checkRef(state);
    const proxy = proxyFor(ref, decodingAuthkey());
    // counted by the server it refers to (reviving it in a request), or for this isolate (a reply
    // of that server); anywhere else this isolate takes a reference of its own
    if (!currentRefScope()?.revived(ref, proxy)) ownReference(proxy, decodingReplyOf(ref.address) ? "counted" : "take");
    return proxy;
  },
  { fromPeers: true },
);

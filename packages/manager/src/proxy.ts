/**
 * Proxies: a reference to an object of a manager server, whose every method is an async call to
 * it. A proxy is shareable: handed to a thread or a child process (as an argument or inside a
 * message), or stored inside another proxy's container, it refers to the same object there.
 */
import { registerHandleType, toHandle, type HandleDescriptor } from "@ipc/core";
import { decodingAuthkey, managerCall } from "./client.js";
import type { ProxyRef } from "./protocol.js";

const TYPE = "@ipc/manager:Proxy";

/** The base of every proxy: its reference, and the call every method makes. */
export class BaseProxy {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  declare readonly ref: ProxyRef;
  /** The manager's key when this proxy was made by a manager of this isolate (never sent anywhere). */
  declare private readonly authkey: Buffer | undefined;

  /** @internal */
  constructor(ref: ProxyRef, authkey?: Buffer) {
    Object.defineProperty(this, "ref", { value: ref, enumerable: false });
    Object.defineProperty(this, "authkey", { value: authkey, enumerable: false });
  }

  /** Calls method `name` of the object on the server with `args` (what every proxy method does). */
  callMethod(name: string, args: unknown[] = []): Promise<unknown> {
    return managerCall(this.ref.address, { t: "call", obj: this.ref.id, m: name, args }, this.authkey);
  }

  /** The typeid of the object on the server (`"dict"`, `"list"`, a registered one). */
  get typeid(): string {
    return this.ref.typeid;
  }

  /** @internal */
  [toHandle](): HandleDescriptor {
    return { type: TYPE, module: import.meta.url, state: this.ref };
  }

  toString(): string {
    return `<${this.constructor.name} ${this.ref.typeid} #${this.ref.id}>`;
  }
}

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

/** A proxy to an object of a registered type: every method name is an async call (the server refuses names it does not expose). */
export type Proxy<T> = BaseProxy & { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

/** The proxy for `ref`: typed for the built-in types, by method name for registered ones. */
export function proxyFor(ref: ProxyRef, authkey?: Buffer): BaseProxy {
  if (ref.typeid === "dict") return new DictProxy(ref, authkey);
  if (ref.typeid === "list") return new ListProxy(ref, authkey);
  if (ref.typeid === "Namespace") return new NamespaceProxy(ref, authkey);
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
registerHandleType(TYPE, (state) => proxyFor(checkRef(state), decodingAuthkey()), { fromPeers: true });

/** The base of every manager proxy: a reference to an object of a manager server. */
import { ClosedError, toHandle, type HandleDescriptor } from "@ipc/core";
import { decrefRemote, increfRemote, managerCall } from "./client.js";
import type { ProxyRef } from "./protocol.js";
import { currentRefScope } from "./ref-scope.js";

/** Handle type name of every proxy (revived by proxy.ts). */
export const PROXY_HANDLE_TYPE = "@ipc/manager:Proxy";
const TYPE = PROXY_HANDLE_TYPE;

/** What a proxy owning a reference gives back when it is collected. */
interface Owned {
  ref: ProxyRef;
  authkey: Buffer | undefined;
}

/** Proxies that own a reference, keyed by the object users hold; the value is the unregister token. */
const owning = new WeakMap<object, Owned>();
/** Proxies whose reference was dropped on purpose: their calls fail. */
const released = new WeakSet<object>();
const collected = new FinalizationRegistry<Owned>((o) => decrefRemote(o.ref.address, o.authkey, o.ref.id, false));

/**
 * Makes `proxy` own one reference to its object: `"counted"` when the server counted it for this
 * isolate already (a create, a reply), `"take"` to take one now (a proxy revived from a handle).
 * The reference is given back when the proxy is collected or released.
 * @internal
 */
export function ownReference(proxy: BaseProxy, how: "counted" | "take"): void {
  const o: Owned = { ref: proxy.ref, authkey: proxy.authkeyUsed };
  if (how === "take") increfRemote(o.ref.address, o.authkey, o.ref.id);
  owning.set(proxy, o);
  collected.register(proxy, o, o);
}

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

  /** @internal the key this proxy's calls use (undefined: the one given for its address, else the process's). */
  get authkeyUsed(): Buffer | undefined {
    return this.authkey;
  }

  /**
   * Calls method `name` of the object on the server with `args` (what every proxy method does).
   * `signal` rejects the call at once and ends its wait on the server.
   */
  callMethod(name: string, args: unknown[] = [], signal?: AbortSignal): Promise<unknown> {
    if (released.has(this)) return Promise.reject(new ClosedError(`${String(this)}: its reference was dropped`));
    return managerCall(this.ref.address, { t: "call", obj: this.ref.id, m: name, args }, this.authkey, signal);
  }

  /**
   * Gives back this proxy's reference to its object now, instead of when the proxy is collected:
   * once no proxy, container or connection refers to it, the server deletes the object. Calls
   * on this proxy then fail with ClosedError; other proxies of the object are unaffected.
   * Idempotent.
   */
  dropReference(): void {
    if (released.has(this)) return;
    released.add(this);
    const o = owning.get(this);
    if (!o) return;
    owning.delete(this);
    collected.unregister(o);
    decrefRemote(o.ref.address, o.authkey, o.ref.id, true);
  }

  /** `using d = await m.dict()`: {@link dropReference} at the end of the block. */
  [Symbol.dispose](): void {
    this.dropReference();
  }

  /** The typeid of the object on the server (`"dict"`, `"list"`, a registered one). */
  get typeid(): string {
    return this.ref.typeid;
  }

  /** @internal the package's bundle (dist/index.js) both defines this class and registers the reviver (proxy.ts) */
  [toHandle](): HandleDescriptor {
    // handed to a child (or to another manager): pin the object on this isolate's connection
    // until the receiver has taken its own reference (see ref-scope.ts)
    if (!currentRefScope()?.sent(this.ref)) increfRemote(this.ref.address, this.authkey, this.ref.id);
    return { type: TYPE, module: import.meta.url, state: this.ref };
  }

  toString(): string {
    return `<${this.constructor.name} ${this.ref.typeid} #${this.ref.id}>`;
  }
}

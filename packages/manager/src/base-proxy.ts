/** The base of every manager proxy: a reference to an object of a manager server. */
import { toHandle, type HandleDescriptor } from "@ipc/core";
import { managerCall } from "./client.js";
import type { ProxyRef } from "./protocol.js";

/** Handle type name of every proxy (revived by proxy.ts). */
export const PROXY_HANDLE_TYPE = "@ipc/manager:Proxy";
const TYPE = PROXY_HANDLE_TYPE;

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

  /**
   * Calls method `name` of the object on the server with `args` (what every proxy method does).
   * `signal` rejects the call at once and ends its wait on the server.
   */
  callMethod(name: string, args: unknown[] = [], signal?: AbortSignal): Promise<unknown> {
    return managerCall(this.ref.address, { t: "call", obj: this.ref.id, m: name, args }, this.authkey, signal);
  }

  /** The typeid of the object on the server (`"dict"`, `"list"`, a registered one). */
  get typeid(): string {
    return this.ref.typeid;
  }

  /** @internal the package's bundle (dist/index.js) both defines this class and registers the reviver (proxy.ts) */
  [toHandle](): HandleDescriptor {
    return { type: TYPE, module: import.meta.url, state: this.ref };
  }

  toString(): string {
    return `<${this.constructor.name} ${this.ref.typeid} #${this.ref.id}>`;
  }
}


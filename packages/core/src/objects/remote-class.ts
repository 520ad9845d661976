/**
 * The client half of the `exposed` tables (CPython's AutoProxy): what a shared object becomes in
 * a process that does not have its memory. Its class serves some methods by name (`exposed`, see
 * SharedObject#serve); a remote copy is an instance of the same class whose prototype is made once
 * per class from that table, so that each exposed name the class has as a method or a getter calls
 * the object's home instead of running here. Everything else (`withLock`, `waitFor`, `putNowait`,
 * iteration...) is the class's own code running on top of the forwarded methods, as in Python,
 * where a proxy's extra methods are written over `_callmethod`.
 *
 * How a method travels is read from the class:
 * - `name` with a `nameSync` twin: `name(...)` is async and its twin blocks the thread; both run
 *   `name` at the home.
 * - a getter, or a method without a twin (one that never waits: `release`, `isSet`...): blocks.
 * - a method that may wait (one with a twin) first checks that the handle may still be used (a
 *   closed queue handle may not), as the local method does.
 * - when the last argument is an options object, its `signal` does not travel: it cancels the
 *   call here, and the home ends the wait it was running.
 * - the class's `remoteCodec` may change the arguments sent and the result received (a queue's
 *   items travel as the bytes the home stores).
 *
 * An exposed name the class does not have as a method or getter is served only: the class's own
 * code calls it (`callSync`), as shared data does for one element.
 */
import { checkSignal } from "../errors/validate.js";
import type { SharedClass } from "./shared-object.js";

/** How one forwarded method's arguments and result change on their way (see the header). */
export interface RemoteTransform {
  /** The arguments sent to the home, made from those given here. */
  args?: (args: unknown[]) => unknown[];
  /** The value returned here, made from the home's reply. */
  result?: (value: unknown) => unknown;
}

/** Transforms of a class's forwarded methods, by name. */
export type RemoteCodec = Readonly<Record<string, RemoteTransform>>;

/** What a forwarder calls on the instance (SharedObject#forward). */
interface Forwarding {
  forward(method: string, args: unknown[], blocking: boolean, waits: boolean): unknown;
}

const prototypes = new WeakMap<SharedClass, object>();

/** The prototype of a remote copy of `cls`'s instances (made on first use, then kept). */
export function remotePrototypeOf(cls: SharedClass): object {
  let proto = prototypes.get(cls);
  if (!proto) prototypes.set(cls, (proto = makeRemotePrototype(cls)));
  return proto;
}

function makeRemotePrototype(cls: SharedClass): object {
  const local = cls.prototype;
  const proto = Object.create(local) as object;
  for (const name of Object.keys(cls.exposed ?? {})) {
    const own = descriptorOf(local, name);
    if (own === undefined) continue;
    if (own.get) {
      define(proto, name, {
        get(this: Forwarding) {
          return this.forward(name, [], true, false);
        },
      });
      continue;
    }
    if (typeof own.value !== "function") continue;
    if (typeof descriptorOf(local, `${name}Sync`)?.value === "function") {
      define(proto, name, {
        value: async function (this: Forwarding, ...args: unknown[]) {
          return this.forward(name, args, false, true);
        },
      });
      define(proto, `${name}Sync`, {
        value: function (this: Forwarding, ...args: unknown[]) {
          return this.forward(name, args, true, true);
        },
      });
    } else {
      define(proto, name, {
        value: function (this: Forwarding, ...args: unknown[]) {
          return this.forward(name, args, true, false);
        },
      });
    }
  }
  return proto;
}

/** Defines a forwarder, named as the method it stands for (stack traces, `fn.name`). */
function define(proto: object, name: string, d: PropertyDescriptor): void {
  if (typeof d.value === "function") Object.defineProperty(d.value, "name", { value: name });
  Object.defineProperty(proto, name, { ...d, configurable: true, enumerable: false, ...(d.value ? { writable: true } : {}) });
}

/** The descriptor of `name` on `proto` or the first of its prototypes that has it. */
function descriptorOf(proto: object | null, name: string): PropertyDescriptor | undefined {
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d) return d;
  }
  return undefined;
}

/**
 * Takes the `signal` out of a trailing options object (it cannot travel; it cancels the call
 * here): `args` is changed in place, and the signal returned, checked as a local call checks it.
 */
export function takeSignal(args: unknown[]): AbortSignal | undefined {
  const last = args.length > 0 ? args[args.length - 1] : undefined;
  if (typeof last !== "object" || last === null || !Object.hasOwn(last, "signal")) return undefined;
  const proto = Object.getPrototypeOf(last) as unknown;
  if (proto !== Object.prototype && proto !== null) return undefined;
  const { signal, ...rest } = last as { signal?: unknown };
  args[args.length - 1] = rest;
  return checkSignal(signal);
}

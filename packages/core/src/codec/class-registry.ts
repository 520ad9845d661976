import { IpcError } from "../errors/errors.js";
import { isolateState } from "../isolate-state.js";

/** Options for {@link registerClass}. */
export interface RegisterClassOptions {
  /** The name the class is known by on the wire; default `cls.name`. Must be the same everywhere. */
  name?: string;
}

type Ctor = new (...args: any[]) => any;

// one registry per isolate, shared by every copy of this package (ESM and CJS builds alike)
const byName = isolateState("@ipc/core:classesByName", () => new Map<string, Ctor>());
const byCtor = isolateState("@ipc/core:classesByCtor", () => new Map<Ctor, string>());

/**
 * Registers a class so that its instances cross boundaries with their prototype: the own
 * enumerable fields are serialized, and on the other side (a thread or process that registered
 * the same class under the same name) a new object with the class's prototype receives them.
 * The constructor is not called on revival, as pickle does not call `__init__`.
 *
 * @example
 * class Point { constructor(public x: number, public y: number) {} norm() { return Math.hypot(this.x, this.y); } }
 * registerClass(Point);
 */
export function registerClass(cls: Ctor, options: RegisterClassOptions = {}): void {
  if (typeof cls !== "function") throw new TypeError(`Expected \`cls\` to be a class, got ${typeof cls}`);
  const name = options.name ?? cls.name;
  if (!name) throw new TypeError("registerClass: an anonymous class needs `options.name`");
  const existing = byName.get(name);
  if (existing && existing !== cls) throw new IpcError(`registerClass: another class is already registered as "${name}"`);
  byName.set(name, cls);
  byCtor.set(cls, name);
}

/** The wire name of a registered class, or undefined. */
export function registeredName(ctor: unknown): string | undefined {
  return byCtor.get(ctor as Ctor);
}

/** The class registered under a wire name, or undefined. */
export function registeredClass(name: string): Ctor | undefined {
  return byName.get(name);
}

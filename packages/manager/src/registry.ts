/**
 * The types a manager serves: a factory that makes the server-side object, and the methods a
 * proxy may call on it (Python's `exposed`). Built-in: `dict`, `list`, `Namespace`.
 */
import { isolateState } from "@ipc/core/internal";

/** A registered type. */
export interface ManagedType {
  factory: (...args: any[]) => object;
  /** Methods a client may call; any other name is refused. */
  exposed: readonly string[];
}

/** The types registered in this isolate, by typeid (per manager class name: `register` is per class). */
const registries = isolateState("@ipc/manager:types", () => new Map<string, Map<string, ManagedType>>());

/** The registry of the manager class `owner` (created on first use). */
export function typesOf(owner: string): Map<string, ManagedType> {
  let m = registries.get(owner);
  if (!m) registries.set(owner, (m = new Map()));
  return m;
}

/** Every method a class's instances have (own methods of its prototype chain, not Object's). */
export function publicMethods(obj: object): string[] {
  const names = new Set<string>();
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) if (k !== "constructor" && !k.startsWith("_") && typeof (p as Record<string, unknown>)[k] === "function") names.add(k);
  }
  return [...names];
}

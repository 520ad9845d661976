/**
 * The server side of the built-in types, as Python's `dict`, `list` and `Namespace` behave in a
 * manager. Keys keep their type (`65` and `"65"` are two keys; `0.25` is a key), as Python's.
 */
import { servedMethods, type Served } from "./served/call-context.js";

/** A manager dict (a Map: keys of any type the codec carries). */
export class ManagedDict {
  readonly map: Map<unknown, unknown>;
  constructor(init?: Iterable<[unknown, unknown]> | Record<string, unknown>) {
    this.map = new Map(init === undefined ? [] : Symbol.iterator in Object(init) ? (init as Iterable<[unknown, unknown]>) : Object.entries(init));
  }
  get(key: unknown, fallback?: unknown): unknown {
    return this.map.has(key) ? this.map.get(key) : fallback;
  }
  set(key: unknown, value: unknown): void {
    this.map.set(key, value);
  }
  has(key: unknown): boolean {
    return this.map.has(key);
  }
  delete(key: unknown): boolean {
    if (!this.map.has(key)) throw new RangeError(`KeyError: ${String(key)}`);
    return this.map.delete(key);
  }
  keys(): unknown[] {
    return [...this.map.keys()];
  }
  values(): unknown[] {
    return [...this.map.values()];
  }
  items(): [unknown, unknown][] {
    return [...this.map.entries()];
  }
  size(): number {
    return this.map.size;
  }
  update(other: Iterable<[unknown, unknown]> | Record<string, unknown> | Map<unknown, unknown>): void {
    const entries = other instanceof Map ? other.entries() : Symbol.iterator in Object(other) ? (other as Iterable<[unknown, unknown]>) : Object.entries(other);
    for (const [k, v] of entries) this.map.set(k, v);
  }
  pop(key: unknown, ...fallback: unknown[]): unknown {
    if (this.map.has(key)) {
      const v = this.map.get(key);
      this.map.delete(key);
      return v;
    }
    if (fallback.length > 0) return fallback[0];
    throw new RangeError(`KeyError: ${String(key)}`);
  }
  popitem(): [unknown, unknown] {
    const last = [...this.map.entries()].at(-1);
    if (!last) throw new RangeError("KeyError: popitem(): dictionary is empty");
    this.map.delete(last[0]);
    return last;
  }
  setdefault(key: unknown, value: unknown = null): unknown {
    if (!this.map.has(key)) this.map.set(key, value);
    return this.map.get(key);
  }
  clear(): void {
    this.map.clear();
  }
  /** A plain copy (a Map), not a proxy. */
  copy(): Map<unknown, unknown> {
    return new Map(this.map);
  }

  /** Methods a dict proxy may call. */
  static readonly exposed: Served<object> = servedMethods(["get", "set", "has", "delete", "keys", "values", "items", "size", "update", "pop", "popitem", "setdefault", "clear", "copy"]);
}

/** A manager list. */
export class ManagedList {
  readonly items: unknown[];
  constructor(init?: Iterable<unknown>) {
    this.items = init === undefined ? [] : [...init];
  }
  #index(i: number): number {
    if (!Number.isInteger(i)) throw new TypeError("list indices must be integers");
    const k = i < 0 ? this.items.length + i : i;
    if (k < 0 || k >= this.items.length) throw new RangeError("IndexError: list index out of range");
    return k;
  }
  get(i: number): unknown {
    return this.items[this.#index(i)];
  }
  set(i: number, v: unknown): void {
    this.items[this.#index(i)] = v;
  }
  append(v: unknown): void {
    this.items.push(v);
  }
  extend(vs: Iterable<unknown>): void {
    this.items.push(...vs);
  }
  insert(i: number, v: unknown): void {
    const n = this.items.length;
    const k = i < 0 ? Math.max(0, n + i) : Math.min(n, i);
    this.items.splice(k, 0, v);
  }
  pop(i = -1): unknown {
    const k = this.#index(i);
    return this.items.splice(k, 1)[0];
  }
  remove(v: unknown): void {
    const k = this.index(v);
    this.items.splice(k, 1);
  }
  index(v: unknown): number {
    const k = this.items.findIndex((x) => Object.is(x, v) || x === v);
    if (k < 0) throw new RangeError(`ValueError: ${String(v)} is not in list`);
    return k;
  }
  count(v: unknown): number {
    return this.items.filter((x) => Object.is(x, v) || x === v).length;
  }
  reverse(): void {
    this.items.reverse();
  }
  sort(opts: { reverse?: boolean } = {}): void {
    this.items.sort((a, b) => (a === b ? 0 : (a as number) < (b as number) ? -1 : 1));
    if (opts.reverse) this.items.reverse();
  }
  slice(start?: number, end?: number): unknown[] {
    return this.items.slice(start, end);
  }
  length(): number {
    return this.items.length;
  }
  toArray(): unknown[] {
    return [...this.items];
  }

  /** Methods a list proxy may call. */
  static readonly exposed: Served<object> = servedMethods(["get", "set", "append", "extend", "insert", "pop", "remove", "index", "count", "reverse", "sort", "slice", "length", "toArray"]);
}

/** A manager Namespace: named attributes. */
export class ManagedNamespace {
  readonly attrs: Map<string, unknown>;
  constructor(init: Record<string, unknown> = {}) {
    this.attrs = new Map(Object.entries(init));
  }
  get(name: string): unknown {
    if (!this.attrs.has(name)) throw new RangeError(`AttributeError: 'Namespace' object has no attribute '${name}'`);
    return this.attrs.get(name);
  }
  set(name: string, v: unknown): void {
    if (typeof name !== "string") throw new TypeError("attribute name must be a string");
    this.attrs.set(name, v);
  }
  has(name: string): boolean {
    return this.attrs.has(name);
  }
  delete(name: string): boolean {
    return this.attrs.delete(name);
  }
  toObject(): Record<string, unknown> {
    return Object.fromEntries(this.attrs);
  }

  /** Methods a Namespace proxy may call. */
  static readonly exposed: Served<object> = servedMethods(["get", "set", "has", "delete", "toObject"]);
}

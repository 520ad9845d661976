/**
 * The Value and Array a manager serves (Python's `SyncManager.Value(typecode, value)` and
 * `Array(typecode, sequence)`): plain values on the server, read and written by method calls. As in
 * Python the typecode is kept for the record and the values are not checked against it (the
 * shared-memory `Value` and `SharedArray` of `@ipc/shared` are the typed ones).
 */
import { servedMethods, type Served } from "./call-context.js";

function checkCode(code: unknown): string {
  if (typeof code !== "string" || code.length === 0) throw new TypeError(`Expected \`typecode\` to be a string, got ${typeof code}`);
  return code;
}


/** One value held by the server. */
export class ManagedValue {
  #value: unknown;
  constructor(
    readonly code: string,
    value: unknown,
  ) {
    checkCode(code);
    this.#value = value;
  }
  get(): unknown {
    return this.#value;
  }
  set(v: unknown): void {
    this.#value = v;
  }
  typecode(): string {
    return this.code;
  }

  /** Methods a value proxy may call. */
  static readonly exposed: Served<object> = servedMethods(["get", "set", "typecode"]);
}

/** A fixed-length array held by the server. */
export class ManagedArray {
  readonly #items: unknown[];
  constructor(
    readonly code: string,
    init: unknown,
  ) {
    checkCode(code);
    const n = typeof init === "number" && Number.isInteger(init) && init >= 0 ? init : undefined;
    const items = n !== undefined ? Array.from({ length: n }, () => zero(code)) : Array.isArray(init) ? [...(init as unknown[])] : undefined;
    if (!items) throw new TypeError("Expected a length or an array of initial values");
    this.#items = items;
  }
  #index(i: unknown): number {
    if (typeof i !== "number" || !Number.isInteger(i)) throw new TypeError("array indices must be integers");
    const k = i < 0 ? this.#items.length + i : i;
    if (k < 0 || k >= this.#items.length) throw new RangeError("IndexError: array index out of range");
    return k;
  }
  get(i: number): unknown {
    return this.#items[this.#index(i)];
  }
  set(i: number, v: unknown): void {
    this.#items[this.#index(i)] = v;
  }
  length(): number {
    return this.#items.length;
  }
  toArray(): unknown[] {
    return [...this.#items];
  }
  slice(start?: number, end?: number): unknown[] {
    return this.#items.slice(start, end);
  }
  setAll(values: unknown[], offset = 0): void {
    if (!Array.isArray(values)) throw new TypeError("Expected an array of values");
    if (offset < 0 || offset + values.length > this.#items.length) throw new RangeError(`${values.length} values from offset ${offset} do not fit an array of length ${this.#items.length}`);
    for (let i = 0; i < values.length; i++) this.#items[offset + i] = values[i];
  }
  typecode(): string {
    return this.code;
  }

  /** Methods an array proxy may call. */
  static readonly exposed: Served<object> = servedMethods(["get", "set", "length", "toArray", "slice", "setAll", "typecode"]);
}

function zero(code: string): unknown {
  if (code === "c" || code === "u") return "\0";
  return /^[lLqQ]$/.test(code) ? 0n : 0;
}

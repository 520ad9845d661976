/**
 * SharedArray: a fixed-length array of typed elements in shared memory, as Python's
 * `multiprocessing.Array` (not named `Array`: that is JavaScript's own). Layout and memory
 * ordering: shared-data.ts (element i at byte i × size).
 */
import { checkInt, INTERNAL, registerShared, type Exposed, type SharedInit } from "@ipc/core/internal";
import { lockFor, type LockOption } from "./lock-option.js";
import { allocateData, dataBytes, SharedData, type DataExtra } from "./shared-data.js";
import { codeOf, load, store, toStored, viewOf, type Code, type Typecode } from "./typecodes.js";

const TYPE = "@ipc/shared:SharedArray";

interface Extra extends DataExtra {
  typecode: string;
  length: number;
}

/** Options of {@link SharedArray}. */
export interface SharedArrayOptions {
  /** `true` or omitted: a new RLock guards every access (Python's default); `false`: none; or the Lock/RLock to use. */
  lock?: LockOption;
}

type View = ReturnType<typeof viewOf>;

/**
 * A fixed-length array of numbers, bigints or characters in shared memory. Each `get`/`set` (and
 * `slice`, `setAll`, `toArray`, as a whole) takes the lock when there is one; for bulk work take
 * the lock once with `withLock` and use `raw`, the typed array over the memory itself.
 *
 * @example
 * const a = new SharedArray("d", 1000); // zeroed
 * a.set(0, 1.5);
 * a.slice(0, 3); // [1.5, 0, 0]
 */
export class SharedArray<T = number> extends SharedData<Extra> {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  declare private readonly code: Code;
  declare private readonly view: View | undefined;
  /** Number of elements. */
  declare readonly length: number;

  constructor(typecode: Typecode, sizeOrInit: number | ArrayLike<T> | Iterable<T>, opts?: SharedArrayOptions);
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<Extra>);
  constructor(a: Typecode | typeof INTERNAL, b: unknown, opts: SharedArrayOptions = {}) {
    let init: SharedInit<Extra>;
    let values: unknown[] | undefined;
    if (a === INTERNAL) init = b as SharedInit<Extra>;
    else {
      const code = codeOf(a);
      let length: number;
      if (typeof b === "number") length = checkInt(b, "size", 0, 2 ** 31 - 1);
      else if (typeof b === "string" && (code.kind === "char" || code.kind === "wchar")) {
        values = [...b];
        length = values.length;
      } else if (b !== null && typeof b === "object" && (Symbol.iterator in b || "length" in b)) {
        values = Array.from(b as ArrayLike<unknown>);
        length = values.length;
      } else throw new TypeError(`Expected \`sizeOrInit\` to be a size or the initial elements, got ${b === null ? "null" : typeof b}`);
      if (values) for (const v of values) toStored(code, v); // checked before anything is allocated
      if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object");
      init = { kind: "local", words: allocateData(length * code.size), extra: { typecode: code.letter, length, lock: lockFor(opts.lock) } };
    }
    super(init);
    const code = codeOf(init.extra.typecode);
    Object.defineProperty(this, "code", { value: code, enumerable: false });
    Object.defineProperty(this, "length", { value: init.extra.length, enumerable: true });
    const buffer = this.buffer;
    Object.defineProperty(this, "view", { value: buffer ? viewOf(code, buffer, this.byteOffset, init.extra.length) : undefined, enumerable: false });
    if (values) for (let i = 0; i < values.length; i++) store(code, this.view!, i, values[i]);
  }

  /** Python's typecode letter of the elements. */
  get typecode(): string {
    return this.code.letter;
  }

  #index(i: unknown): number {
    if (typeof i !== "number" || !Number.isInteger(i)) throw new TypeError(`Expected an integer index, got ${typeof i}`);
    const k = i < 0 ? this.length + i : i;
    if (k < 0 || k >= this.length) throw new RangeError(`index ${i} out of range for a SharedArray of length ${this.length}`);
    return k;
  }

  /** Element `i` (negative counts from the end, as in Python). @throws RangeError out of range. */
  get(i: number): T {
    const k = this.#index(i);
    const lock = this.enter();
    try {
      return (this.view ? load(this.code, this.view, k) : this.remoteSync("load", [k])) as T;
    } finally {
      lock?.release();
    }
  }

  /** Sets element `i`. @throws RangeError out of range, TypeError for a value of the wrong type. */
  set(i: number, v: T): void {
    const k = this.#index(i);
    toStored(this.code, v);
    const lock = this.enter();
    try {
      if (this.view) store(this.code, this.view, k, v);
      else this.remoteSync("store", [k, v]);
    } finally {
      lock?.release();
    }
  }

  #range(start: number | undefined, end: number | undefined): [number, number] {
    const n = this.length;
    const clamp = (x: number | undefined, d: number) => {
      if (x === undefined) return d;
      if (typeof x !== "number" || !Number.isInteger(x)) throw new TypeError(`Expected an integer, got ${typeof x}`);
      return x < 0 ? Math.max(0, n + x) : Math.min(n, x);
    };
    const s = clamp(start, 0);
    return [s, Math.max(s, clamp(end, n))];
  }

  /** Elements `start` to `end` (exclusive; negatives count from the end), as `Array#slice`. */
  slice(start?: number, end?: number): T[] {
    const [s, e] = this.#range(start, end);
    return this.locked(() => (this.view ? this.#read(s, e) : (this.remoteSync("loadRange", [s, e]) as T[])));
  }

  #read(s: number, e: number): T[] {
    const out = new Array<T>(e - s);
    for (let i = s; i < e; i++) out[i - s] = load(this.code, this.view!, i) as T;
    return out;
  }

  /** Writes `values` from element `offset` on (Python's slice assignment). @throws RangeError when they do not fit. */
  setAll(values: ArrayLike<T> | Iterable<T>, offset = 0): void {
    const list = Array.from(values as ArrayLike<T>);
    const k = checkInt(offset, "offset", 0, this.length);
    if (k + list.length > this.length) throw new RangeError(`${list.length} values from offset ${k} do not fit a SharedArray of length ${this.length}`);
    for (const v of list) toStored(this.code, v);
    this.locked(() => (this.view ? this.#write(list, k) : this.remoteSync("storeRange", [list, k])));
  }

  #write(list: unknown[], k: number): void {
    for (let i = 0; i < list.length; i++) store(this.code, this.view!, k + i, list[i]);
  }

  /** All the elements, as a plain array. */
  toArray(): T[] {
    return this.slice();
  }

  /** Iterates over a snapshot of the elements. */
  [Symbol.iterator](): Iterator<T> {
    return this.toArray()[Symbol.iterator]();
  }

  /**
   * The typed array over the memory itself (`Int32Array` for `'i'`, `Float64Array` for `'d'`,
   * `Uint8Array` for `'c'`, code points in a `Uint32Array` for `'u'`...), for bulk work: take the
   * lock around it yourself. @throws InvalidStateError where the memory is not mapped.
   */
  get raw(): View {
    this.mapped("raw");
    return this.view!;
  }

  /**
   * For `'c'` and `'u'` arrays: the text up to the first NUL (Python's `.value`). Setting it writes
   * the text and a NUL after it when there is room. @throws TypeError for other typecodes,
   * RangeError for text longer than the array.
   */
  get value(): string {
    this.#textual();
    const chars = this.toArray() as unknown as string[];
    const end = chars.indexOf("\0");
    return (end < 0 ? chars : chars.slice(0, end)).join("");
  }

  set value(text: string) {
    this.#textual();
    if (typeof text !== "string") throw new TypeError(`Expected a string, got ${typeof text}`);
    const chars = [...text];
    if (chars.length > this.length) throw new RangeError(`a string of ${chars.length} characters is too long for a SharedArray of length ${this.length}`);
    if (chars.length < this.length) chars.push("\0");
    this.setAll(chars as unknown as T[]);
  }

  #textual(): void {
    if (this.code.kind !== "char" && this.code.kind !== "wchar") throw new TypeError(`.value is for 'c' and 'u' arrays, not '${this.code.letter}'`);
  }

  /** What a remote copy calls to read and write elements (see SharedObject#serve); indexes and ranges are checked again here. */
  static readonly exposed: Exposed<SharedArray<unknown>> = {
    load: (a, args) => load(a.code, a.view!, a.#index(args[0])),
    store: (a, args) => {
      const k = a.#index(args[0]);
      toStored(a.code, args[1]);
      store(a.code, a.view!, k, args[1]);
    },
    loadRange: (a, args) => a.#read(...a.#range(args[0] as number, args[1] as number)),
    storeRange: (a, args) => {
      if (!Array.isArray(args[0])) throw new TypeError("a remote setAll sends an array");
      const list = args[0] as unknown[];
      const k = checkInt(args[1], "offset", 0, a.length);
      if (k + list.length > a.length) throw new RangeError(`${list.length} values from offset ${k} do not fit a SharedArray of length ${a.length}`);
      for (const v of list) toStored(a.code, v);
      a.#write(list, k);
    },
  };

  override toString(): string {
    return `<SharedArray '${this.code.letter}' length=${this.length}${this.isRemote ? " remote" : ""}>`;
  }
}

registerShared<Extra>(TYPE, (init) => new SharedArray(INTERNAL, init));

/**
 * A typed array over shared memory, without a lock (Python's `RawArray`): an `Int32Array` for
 * `'i'`, a `Float64Array` for `'d'`... It is shared with the worker threads it is handed to; a
 * child *process* gets a copy of a plain typed array, so hand it `new SharedArray(code, n, { lock: false })`.
 */
export function RawArray(typecode: Typecode, sizeOrInit: number | ArrayLike<unknown> | Iterable<unknown>): View {
  const code = codeOf(typecode);
  const values = typeof sizeOrInit === "number" ? undefined : Array.from(sizeOrInit as ArrayLike<unknown>);
  const length = values ? values.length : checkInt(sizeOrInit, "size", 0, 2 ** 31 - 1);
  if (values) for (const v of values) toStored(code, v);
  const view = viewOf(code, new SharedArrayBuffer(dataBytes(length * code.size)), 0, length);
  if (values) for (let i = 0; i < length; i++) store(code, view, i, values[i]);
  return view;
}


/**
 * Typecodes, as Python's `array` module and `ctypes` name them: what one element is, how many
 * bytes it takes, and how a JavaScript value is checked and stored.
 */

/** A typecode (Python's letters, or a name). */
export type Typecode =
  | "b" | "B" | "h" | "H" | "i" | "I" | "l" | "L" | "q" | "Q" | "f" | "d" | "c" | "u"
  | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64" | "float32" | "float64";

/** The JavaScript type of an element of `C`: `bigint` for 64-bit integers, `string` for `'c'`/`'u'`. */
export type ElementOf<C extends Typecode> = C extends "l" | "L" | "q" | "Q" | "int64" | "uint64" ? bigint : C extends "c" | "u" ? string : number;

type View = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;
type ViewCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => View;

/** What a typecode means. */
export interface Code {
  /** Python's letter. */
  readonly letter: string;
  /** Bytes per element (also its alignment, as in C). */
  readonly size: number;
  readonly View: ViewCtor;
  readonly kind: "int" | "float" | "bigint" | "char" | "wchar";
  /** Atomics work on its views. */
  readonly atomic: boolean;
}

const table: Record<string, Code> = {
  b: { letter: "b", size: 1, View: Int8Array, kind: "int", atomic: true },
  B: { letter: "B", size: 1, View: Uint8Array, kind: "int", atomic: true },
  h: { letter: "h", size: 2, View: Int16Array, kind: "int", atomic: true },
  H: { letter: "H", size: 2, View: Uint16Array, kind: "int", atomic: true },
  i: { letter: "i", size: 4, View: Int32Array, kind: "int", atomic: true },
  I: { letter: "I", size: 4, View: Uint32Array, kind: "int", atomic: true },
  // C's long is 64 bits on Linux and macOS, as Python's 'l' there
  l: { letter: "l", size: 8, View: BigInt64Array, kind: "bigint", atomic: true },
  L: { letter: "L", size: 8, View: BigUint64Array, kind: "bigint", atomic: true },
  q: { letter: "q", size: 8, View: BigInt64Array, kind: "bigint", atomic: true },
  Q: { letter: "Q", size: 8, View: BigUint64Array, kind: "bigint", atomic: true },
  f: { letter: "f", size: 4, View: Float32Array, kind: "float", atomic: false },
  d: { letter: "d", size: 8, View: Float64Array, kind: "float", atomic: false },
  c: { letter: "c", size: 1, View: Uint8Array, kind: "char", atomic: true },
  // a code point, 4 bytes (C's wchar_t on Linux)
  u: { letter: "u", size: 4, View: Uint32Array, kind: "wchar", atomic: true },
};
const names: Record<string, string> = {
  int8: "b", uint8: "B", int16: "h", uint16: "H", int32: "i", uint32: "I", int64: "q", uint64: "Q", float32: "f", float64: "d",
};

/** The typecode's meaning. @throws TypeError `bad typecode` (Python's message) for anything else. */
export function codeOf(typecode: unknown): Code {
  const key = typeof typecode === "string" ? (names[typecode] ?? typecode) : undefined;
  const code = key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
  if (!code) {
    throw new TypeError(`bad typecode (must be one of b, B, h, H, i, I, l, L, q, Q, f, d, c, u or a name such as 'int32'), got ${JSON.stringify(typecode) ?? String(typecode)}`);
  }
  return code;
}

/** The value an element starts as. */
export function zeroOf(code: Code): unknown {
  return code.kind === "bigint" ? 0n : code.kind === "char" || code.kind === "wchar" ? "\0" : 0;
}

/** Checks `v` for an element of `code` and turns it into what its view stores. @throws TypeError */
export function toStored(code: Code, v: unknown): number | bigint {
  switch (code.kind) {
    case "int":
      if (typeof v !== "number" || !Number.isInteger(v)) throw new TypeError(`an integer is required for typecode '${code.letter}', got ${describe(v)}`);
      return v; // stored modulo 2^bits, as ctypes does
    case "float":
      if (typeof v !== "number") throw new TypeError(`a number is required for typecode '${code.letter}', got ${describe(v)}`);
      return v;
    case "bigint":
      if (typeof v === "bigint") return v;
      if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
      throw new TypeError(`a bigint (or a safe integer) is required for typecode '${code.letter}', got ${describe(v)}`);
    case "char":
      if (typeof v !== "string" || v.length !== 1 || v.charCodeAt(0) > 0xff) throw new TypeError(`a one-character string (code 0-255) is required for typecode 'c', got ${describe(v)}`);
      return v.charCodeAt(0);
    case "wchar": {
      const cp = typeof v === "string" ? v.codePointAt(0) : undefined;
      if (cp === undefined || String.fromCodePoint(cp) !== v) throw new TypeError(`a one-character string is required for typecode 'u', got ${describe(v)}`);
      return cp;
    }
  }
}

/** What a stored element reads as. */
export function fromStored(code: Code, s: number | bigint): unknown {
  if (code.kind === "char") return String.fromCharCode(s as number);
  if (code.kind === "wchar") return String.fromCodePoint(s as number);
  return s;
}

/** Reads element `i` of `view` (atomically where the type allows). */
export function load(code: Code, view: View, i: number): unknown {
  const s = code.atomic ? Atomics.load(view as Int32Array, i) : view[i];
  return fromStored(code, s);
}

/** Writes element `i` of `view` (atomically where the type allows). @throws TypeError */
export function store(code: Code, view: View, i: number, v: unknown): void {
  const s = toStored(code, v);
  if (code.atomic) Atomics.store(view as Int32Array, i, s as number);
  else view[i] = s;
}

/** A typed view of `length` elements of `code` at `byteOffset` of `buffer`. */
export function viewOf(code: Code, buffer: ArrayBufferLike, byteOffset: number, length: number): View {
  return new code.View(buffer, byteOffset, length);
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  if (typeof v === "bigint") return `${v}n`;
  return v === null ? "null" : typeof v === "object" ? (v.constructor?.name ?? "object") : `${typeof v} ${String(v)}`;
}

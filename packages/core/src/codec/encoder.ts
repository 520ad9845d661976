/**
 * The @ipc encoder: structured-clone values, circular references, Errors, registered classes and
 * handles into compact bytes. A hand-written format (see `tags.ts`) because the common messages
 * (numbers, short strings, small objects) cost ~0.3 µs here against ~4.5 µs for `v8.serialize`
 * (measured in bench/, numbers in docs/benchmarks.md).
 */
import { isStackOverflow } from "./decoder.js";
import { SerializationError } from "../errors/errors.js";
import { type HandleContext, isHandleable, toHandle } from "../handles/handle.js";
import { registeredName } from "./class-registry.js";
import { BUFFER_KIND, DATAVIEW_KIND, DENSE_MIN, LITTLE_ENDIAN, Tag, typedArrayKinds } from "./tags.js";

const kindOf = new Map<unknown, number>(typedArrayKinds.map((ctor, i) => [ctor, i]));
const objectProto = Object.prototype;

/** Raised inside the encoder; gathers the path while unwinding, then becomes a SerializationError. */
class PathError {
  segments: string[] = [];
  constructor(readonly what: string) {}
}

function segment(key: string | number): string {
  if (typeof key === "number") return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Size of the encoder's reusable scratch buffer. */
const SCRATCH = 64 * 1024;
/** Largest scratch buffer kept between calls. */
const MAX_KEPT = 16 * 1024 * 1024;
/** Messages shorter than this are offered through a view kept per length (Writer.written). */
const HEAD_VIEWS = 256;

/** A growable byte buffer the encoder writes into. Reused between calls. */
class Writer {
  buf = Buffer.allocUnsafeSlow(SCRATCH);
  view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  pos = 0;
  /** Views of the first n bytes of `headsOf` (a Buffer's `subarray` costs ~50 ns, a kept view nothing). */
  private heads: (Uint8Array | undefined)[] = [];
  private headsOf: Buffer | undefined;

  /** The bytes written so far, as a view of `buf` (kept per length for short messages). */
  written(): Uint8Array {
    const n = this.pos;
    if (n >= HEAD_VIEWS) return this.buf.subarray(0, n);
    if (this.headsOf !== this.buf) {
      this.heads = [];
      this.headsOf = this.buf;
    }
    return (this.heads[n] ??= new Uint8Array(this.buf.buffer, this.buf.byteOffset, n));
  }

  /**
   * A large buffer given back by its last user (`recycleSerialized`) while `buf` was already
   * replaced: the next growth takes it instead of fresh memory (a stream of large puts hands out
   * one scratch buffer per item and gets it back only once the item has streamed into the ring).
   */
  spare: Buffer<ArrayBuffer> | undefined;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const spare = this.spare;
    let next: Buffer<ArrayBuffer>;
    if (spare !== undefined && spare.length >= this.pos + n) {
      next = spare;
      this.spare = undefined;
    } else next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  varint(v: number): void {
    this.ensure(5);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }
  /**
   * Writes `v` as a varint at `at`, where one byte was left for it (what was written after that
   * byte moves when the varint needs more).
   */
  varintAt(at: number, v: number): void {
    if (v < 0x80) {
      this.buf[at] = v;
      return;
    }
    let extra = 0;
    for (let x = v >>> 7; x > 0x7f; x >>>= 7) extra++;
    extra++;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    let p = at;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }
  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  string(s: string): void {
    const n = s.length;
    if (n < 64) {
      // short strings: ASCII fast path without a call into the UTF-8 encoder
      this.ensure(1 + n * 3);
      const start = this.pos;
      this.buf[this.pos++] = n;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        this.buf[this.pos++] = c;
      }
      if (i === n) return;
      this.pos = start;
    }
    const max = n * 3;
    this.ensure(5 + max);
    // reserve a varint for the length, then fix up
    const lenBytes = max < 0x80 ? 1 : max < 0x4000 ? 2 : max < 0x200000 ? 3 : max < 0x10000000 ? 4 : 5;
    const start = this.pos + lenBytes;
    const written = this.buf.write(s, start, "utf8");
    let v = written;
    let p = this.pos;
    for (let k = 0; k < lenBytes - 1; k++) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
    this.pos = start + written;
  }
  /** Writes `src` as it is (no length before it). */
  raw(src: Uint8Array): void {
    this.ensure(src.byteLength);
    this.buf.set(src, this.pos);
    this.pos += src.byteLength;
  }
  bytes(src: Uint8Array): void {
    this.varint(src.byteLength);
    this.ensure(src.byteLength);
    this.buf.set(src, this.pos);
    this.pos += src.byteLength;
  }
}

/** Options for {@link serialize}. */
export interface SerializeOptions {
  /** Where the bytes go; decides how handles describe themselves. Default `'process'` (self-contained bytes). */
  target?: HandleContext["target"];
  /** Thread target: SharedArrayBuffers met while encoding are appended here and referenced by index. */
  shared?: SharedArrayBuffer[];
  /**
   * Filled with the type and module of every handle met, so that a receiver can import those
   * modules (with `loadHandleModules`) before it deserializes: reviving a type whose module was
   * never imported otherwise loads it synchronously.
   */
  handleModules?: Map<string, string>;
}

/** The context of bytes bound for another process (no per-call allocation). */
const PROCESS_CTX: HandleContext = Object.freeze({ target: "process" });
/** Objects met are first kept in a short array (a scan beats hashing for small messages). */
const FEW = 16;

class Encoder {
  readonly w = new Writer();
  /**
   * The objects met so far, by back-reference index: the first `nFew` slots of `few` until there
   * are FEW, then `many`. (A counted array, not `push` and `length = 0`: setting an array's length
   * is a runtime call, a fifth of encoding a small object.)
   */
  private readonly few: (object | undefined)[] = new Array<object | undefined>(FEW).fill(undefined);
  private nFew = 0;
  private many: Map<object, number> | undefined;
  /** Object.prototype has no enumerable property (checked per value): plain objects are walked with for-in. */
  private cleanProto = true;
  ctx: HandleContext = PROCESS_CTX;
  /** Where handles met record their type and module (serializeAt's `handleModules`). */
  modules: Map<string, string> | undefined;
  busy = false;

  /** The back-reference index of `o` if it was met before in this value. */
  private refOf(o: object): number | undefined {
    if (this.many) return this.many.get(o);
    const few = this.few;
    for (let i = 0; i < this.nFew; i++) if (few[i] === o) return i;
    return undefined;
  }

  /** Records `o` under the next back-reference index. */
  private track(o: object): void {
    if (this.many) this.many.set(o, this.many.size);
    else if (this.nFew < FEW) this.few[this.nFew++] = o;
    else {
      this.many = new Map(this.few.map((x, i) => [x as object, i]));
      this.many.set(o, FEW);
    }
  }

  /** Gets ready for a value: Object.prototype is looked at once per value (see {@link plain}). */
  begin(): void {
    this.cleanProto = noEnumerable(objectProto);
  }

  /** Forgets the objects met (after each value). */
  resetSeen(): void {
    const few = this.few;
    for (let i = 0; i < this.nFew; i++) few[i] = undefined;
    this.nFew = 0;
    this.many = undefined;
  }

  value(v: unknown): void {
    switch (typeof v) {
      case "number":
        if ((v | 0) === v && !Object.is(v, -0)) {
          if (v >= 0 && v < 256) {
            this.w.ensure(2);
            this.w.buf[this.w.pos++] = Tag.SmallInt;
            this.w.buf[this.w.pos++] = v;
          } else {
            this.w.u8(Tag.Int32);
            this.w.i32(v);
          }
        } else {
          this.w.u8(Tag.Float64);
          this.w.f64(v);
        }
        return;
      case "string":
        this.w.u8(Tag.String);
        this.w.string(v);
        return;
      case "boolean":
        this.w.u8(v ? Tag.True : Tag.False);
        return;
      case "undefined":
        this.w.u8(Tag.Undefined);
        return;
      case "bigint":
        this.w.u8(Tag.BigInt);
        this.bigint(v);
        return;
      case "object":
        if (v === null) this.w.u8(Tag.Null);
        else this.object(v);
        return;
      case "function":
        throw new PathError(`function${v.name ? ` ${v.name}` : ""}`);
      default:
        throw new PathError(typeof v);
    }
  }

  bigint(v: bigint): void {
    const negative = v < 0n;
    let m = negative ? -v : v;
    const bytes: number[] = [];
    while (m > 0n) {
      bytes.push(Number(m & 0xffn));
      m >>= 8n;
    }
    this.w.u8(negative ? 1 : 0);
    this.w.bytes(Uint8Array.from(bytes));
  }

  object(o: object): void {
    const ref = this.refOf(o);
    if (ref !== undefined) {
      this.w.u8(Tag.BackRef);
      this.w.varint(ref);
      return;
    }
    this.track(o);
    const proto = Object.getPrototypeOf(o);
    if (proto === objectProto || proto === null) return this.plain(o as Record<string, unknown>);
    if (Array.isArray(o)) return this.array(o);
    if (isHandleable(o)) return this.handle(o);
    if (ArrayBuffer.isView(o)) return this.view(o);
    if (o instanceof Map) return this.map(o);
    if (o instanceof Set) return this.set(o);
    if (o instanceof Date) {
      this.w.u8(Tag.Date);
      this.w.f64(o.getTime());
      return;
    }
    if (o instanceof RegExp) {
      this.w.u8(Tag.RegExp);
      this.w.string(o.source);
      this.w.string(o.flags);
      return;
    }
    if (o instanceof ArrayBuffer) {
      this.w.u8(Tag.ArrayBuffer);
      this.w.bytes(new Uint8Array(o));
      return;
    }
    if (o instanceof SharedArrayBuffer) return this.sab(o);
    const name = registeredName(o.constructor);
    if (name !== undefined) {
      this.w.u8(Tag.Class);
      this.w.string(name);
      return this.plain(o as Record<string, unknown>, true);
    }
    if (o instanceof Error) return this.error(o);
    if (o instanceof Number || o instanceof String || o instanceof Boolean || o instanceof BigInt) {
      this.w.u8(Tag.Boxed);
      return this.value(o.valueOf());
    }
    throw new PathError(`${o.constructor?.name ?? "object"} instance (not serializable; use registerClass for your own classes)`);
  }

  plain(o: Record<string, unknown>, fieldsOnly = false): void {
    if (!fieldsOnly) {
      this.w.u8(Tag.Object);
      // for-in without an own-key check lists what Object.keys does for an object whose prototype
      // is Object.prototype (when it has no enumerable property) or null, without making an
      // array of the keys and with cached-index loads of the values (~3x faster for small objects)
      if (this.cleanProto) return this.fields(o);
    }
    const keys = Object.keys(o);
    this.w.varint(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      this.w.string(k);
      try {
        this.value(o[k]);
      } catch (e) {
        throw prefix(e, k);
      }
    }
  }

  /** The own enumerable properties of `o` (see {@link plain}), counted as they are written. */
  private fields(o: Record<string, unknown>): void {
    const w = this.w;
    w.ensure(1);
    const at = w.pos++;
    let n = 0;
    for (const k in o) {
      n++;
      w.string(k);
      try {
        this.value(o[k]);
      } catch (e) {
        throw prefix(e, k);
      }
    }
    w.varintAt(at, n);
  }

  array(a: unknown[]): void {
    const n = a.length;
    if (n >= DENSE_MIN && LITTLE_ENDIAN && this.numbers(a, n)) return;
    this.w.u8(Tag.Array);
    this.w.varint(n);
    for (let i = 0; i < n; i++) {
      if (!(i in a)) {
        this.w.u8(Tag.Hole);
        continue;
      }
      try {
        this.value(a[i]);
      } catch (e) {
        throw prefix(e, i);
      }
    }
  }

  /** Writes `a` as one block when it holds numbers only (see `DENSE_MIN`); false otherwise. */
  numbers(a: unknown[], n: number): boolean {
    let ints = true;
    for (let i = 0; i < n; i++) {
      const v = a[i]; // a hole reads as undefined: not a number
      if (typeof v !== "number") return false;
      if (ints && ((v | 0) !== v || (v === 0 && 1 / v < 0))) ints = false;
    }
    const block = ints ? new Int32Array(a as number[]) : new Float64Array(a as number[]);
    this.w.u8(ints ? Tag.Int32s : Tag.Float64s);
    this.w.varint(n);
    this.w.raw(new Uint8Array(block.buffer, 0, block.byteLength));
    return true;
  }

  map(m: Map<unknown, unknown>): void {
    this.w.u8(Tag.Map);
    this.w.varint(m.size);
    let i = 0;
    for (const [k, v] of m) {
      try {
        this.value(k);
        this.value(v);
      } catch (e) {
        throw prefix(e, `<Map entry ${i}>`);
      }
      i++;
    }
  }

  set(s: Set<unknown>): void {
    this.w.u8(Tag.Set);
    this.w.varint(s.size);
    let i = 0;
    for (const v of s) {
      try {
        this.value(v);
      } catch (e) {
        throw prefix(e, `<Set entry ${i}>`);
      }
      i++;
    }
  }

  view(v: ArrayBufferView): void {
    if (v.buffer instanceof SharedArrayBuffer && this.ctx.target === "thread" && this.ctx.shared) {
      // a view over shared memory stays shared between threads
      this.w.u8(Tag.TypedArray);
      this.w.u8(0x80 | kindOfView(v));
      this.w.varint(v.byteOffset);
      this.w.varint(v.byteLength);
      this.sab(v.buffer);
      return;
    }
    this.w.u8(Tag.TypedArray);
    this.w.u8(kindOfView(v));
    // a plain Uint8Array is its own byte view (no new view object per value)
    this.w.bytes(v.constructor === Uint8Array ? (v as Uint8Array) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }

  sab(b: SharedArrayBuffer): void {
    const shared = this.ctx.shared;
    if (this.ctx.target !== "thread" || !shared) {
      throw new PathError("SharedArrayBuffer (shared memory cannot cross a process boundary; use a Value or SharedArray handle)");
    }
    let index = shared.indexOf(b);
    if (index < 0) index = shared.push(b) - 1;
    this.w.u8(Tag.SharedArrayBuffer);
    this.w.varint(index);
  }

  error(e: Error): void {
    this.w.u8(Tag.Error);
    this.w.string(String(e.name));
    this.w.string(String(e.message));
    this.w.string(typeof e.stack === "string" ? e.stack : "");
    const hasCause = Object.prototype.hasOwnProperty.call(e, "cause");
    this.w.u8(hasCause ? 1 : 0);
    if (hasCause) {
      try {
        this.value((e as { cause?: unknown }).cause);
      } catch (err) {
        throw prefix(err, "cause");
      }
    }
    const extra: Record<string, unknown> = {};
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" || typeof code === "number") extra.code = code;
    for (const k of Object.keys(e)) {
      if (k === "cause" || k === "stack" || k === "message" || k === "name") continue;
      const v = (e as unknown as Record<string, unknown>)[k];
      if (typeof v !== "function" && typeof v !== "symbol") extra[k] = v;
    }
    this.plain(extra);
  }

  handle(o: object & { [toHandle]: (ctx: HandleContext) => { type: string; module?: string; state: unknown } }): void {
    let d;
    try {
      d = o[toHandle](this.ctx);
    } catch (e) {
      if (e instanceof PathError) throw e;
      throw new PathError(`${o.constructor?.name ?? "handle"} (${(e as Error)?.message ?? e})`);
    }
    this.w.u8(Tag.Handle);
    this.w.string(d.type);
    this.w.string(d.module ?? "");
    if (d.module && this.modules) this.modules.set(d.type, d.module);
    this.value(d.state);
  }
}

/** True when `o` has no enumerable property (its own or inherited). */
function noEnumerable(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

function kindOfView(v: ArrayBufferView): number {
  if (v.constructor === Uint8Array) return UINT8_KIND;
  if (Buffer.isBuffer(v)) return BUFFER_KIND;
  if (v instanceof DataView) return DATAVIEW_KIND;
  const k = kindOf.get(v.constructor);
  if (k === undefined) throw new PathError(`${v.constructor.name}`);
  return k;
}

function prefix(e: unknown, key: string | number): unknown {
  if (e instanceof PathError) e.segments.push(typeof key === "string" && key.startsWith("<") ? key : segment(key));
  return e;
}

const UINT8_KIND = kindOf.get(Uint8Array)!;
const shared = new Encoder();

/**
 * Encodes `value` with this isolate's encoder (a fresh one when re-entered: a `toHandle` that
 * serializes) and returns `finish(encoder, arg)`, naming the path of what cannot be encoded.
 */
function encode<A, R>(value: unknown, root: string, ctx: HandleContext, finish: (enc: Encoder, arg: A) => R, arg: A, modules?: Map<string, string>): R {
  const enc = shared.busy ? new Encoder() : shared;
  enc.busy = true;
  enc.ctx = ctx;
  enc.modules = modules;
  enc.w.pos = 0;
  try {
    enc.begin();
    enc.value(value);
    return finish(enc, arg);
  } catch (e) {
    if (e instanceof PathError) {
      const path = root + e.segments.reverse().join("");
      throw new SerializationError(`${path}: ${e.what}`);
    }
    if (isStackOverflow(e)) throw new SerializationError(`${root}: nested too deeply to serialize`);
    throw e;
  } finally {
    enc.resetSeen();
    enc.modules = undefined;
    enc.busy = false;
    if (enc.w.buf.length > MAX_KEPT) {
      enc.w.buf = Buffer.allocUnsafeSlow(SCRATCH);
      enc.w.view = new DataView(enc.w.buf.buffer, enc.w.buf.byteOffset, enc.w.buf.byteLength);
    }
  }
}

/** The encoded bytes as a buffer of their own. */
function takeBytes(enc: Encoder): Uint8Array {
  const n = enc.w.pos;
  if (n > SCRATCH) {
    // a large message: hand over the scratch buffer itself instead of copying it
    // (the next scratch is a large buffer given back earlier, if there is one)
    const out = enc.w.buf.subarray(0, n);
    enc.w.buf = enc.w.spare ?? Buffer.allocUnsafeSlow(SCRATCH);
    enc.w.spare = undefined;
    enc.w.view = new DataView(enc.w.buf.buffer, enc.w.buf.byteOffset, enc.w.buf.byteLength);
    return out;
  }
  // a pooled Buffer (Node's slab for < 4 KiB) instead of a fresh zeroed ArrayBuffer per message
  const out = Buffer.allocUnsafe(n);
  enc.w.buf.copy(out, 0, 0, n);
  return out;
}

/** Offers a view of the encoded bytes to `consume`; when it declines, the bytes as their own buffer. */
function offerBytes(enc: Encoder, consume: (bytes: Uint8Array) => boolean): Uint8Array | undefined {
  return consume(enc.w.written()) ? undefined : takeBytes(enc);
}

/** Encodes with a given root name for error paths, e.g. `args`. */
export function serializeAt(value: unknown, root: string, options?: SerializeOptions): Uint8Array {
  const ctx = options?.target === "thread" ? { target: "thread" as const, shared: options.shared ?? [] } : PROCESS_CTX;
  return encode(value, root, ctx, takeBytes, undefined, options?.handleModules);
}

/**
 * Encodes `value` into this isolate's scratch buffer and offers a view of the bytes to `consume`
 * (valid only during the call: a queue or pipe copies them straight into its ring, with no
 * intermediate buffer). Returns `undefined` when `consume` took them (returned true), otherwise
 * the bytes as their own buffer, as {@link serialize} returns them.
 * @throws SerializationError as {@link serialize}.
 */
export function serializeOr(value: unknown, consume: (bytes: Uint8Array) => boolean): Uint8Array | undefined {
  return encode(value, "value", PROCESS_CTX, offerBytes, consume);
}

/**
 * Turns a value into bytes: the structured-clone set (primitives, plain objects, arrays, Map, Set,
 * Date, RegExp, BigInt, ArrayBuffer and typed arrays, Errors with name/message/stack/cause),
 * circular references, instances of classes registered with `registerClass`, and IPC handles.
 *
 * The result is a `Uint8Array` (a Buffer; small ones share Node's buffer pool, so use the bytes,
 * not their `.buffer`).
 *
 * @throws SerializationError naming the path to the first value that cannot be serialized,
 *   e.g. `value.onDone: function onDone`.
 */
export function serialize(value: unknown, options?: SerializeOptions): Uint8Array {
  return serializeAt(value, "value", options);
}

/**
 * Gives back the bytes of a large message once the caller is done with them (a queue, after
 * copying them into its ring), so that the next large message reuses that memory instead of
 * touching fresh pages (on this machine ~13 µs per fresh 4 KiB page). Only for bytes returned by
 * `serialize` that nothing else references.
 */
export function recycleSerialized(bytes: Uint8Array): void {
  const size = bytes.buffer.byteLength;
  if (!(bytes.buffer instanceof ArrayBuffer) || bytes.byteOffset !== 0 || size <= SCRATCH || size > MAX_KEPT) return;
  const w = shared.w;
  if (bytes.buffer === w.buf.buffer || bytes.buffer === w.spare?.buffer) return;
  if (!shared.busy && size > w.buf.length) {
    w.buf = Buffer.from(bytes.buffer);
    w.view = new DataView(bytes.buffer);
  } else if (size > (w.spare?.length ?? 0)) w.spare = Buffer.from(bytes.buffer);
}

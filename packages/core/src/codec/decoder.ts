/** The @ipc decoder: the inverse of `encoder.ts`. Rejects malformed input with `SerializationError`. */
import { errorClasses, IpcError, SerializationError } from "../errors/errors.js";
import { type HandleContext, type Reviver, reviverFor } from "../handles/handle.js";
import { allocLarge } from "../memory/large-buffer.js";
import { registeredClass } from "./class-registry.js";
import { BUFFER_KIND, DATAVIEW_KIND, LITTLE_ENDIAN, Tag, typedArrayKinds } from "./tags.js";

/** Options for {@link deserialize}. */
export interface DeserializeOptions {
  /** Shared buffers that travelled with the bytes (thread target). */
  shared?: SharedArrayBuffer[];
  /**
   * The bytes are a private buffer nobody else uses: typed arrays of 64 KiB or more are returned
   * as views into it instead of copies (their `.buffer` is then the whole input). Ignored for bytes
   * in shared memory, so a caller may pass it for whatever bytes it has.
   */
  owned?: boolean;
  /**
   * The bytes came from a network peer (`Listener`/`Client`, a remote manager): no handle is
   * revived unless its type was registered for peers (`registerHandleType(..., { fromPeers: true })`),
   * so nothing a peer sends can map memory or load a module here.
   */
  peer?: boolean;
}


const KEY_CACHE_SIZE = 4096;
/** Recently decoded short keys, by hash of their bytes. */
const keyCache: (string | undefined)[] = new Array(KEY_CACHE_SIZE);

/** The context of bytes from another process (no per-call allocation). */
const PROCESS_CTX: HandleContext = Object.freeze({ target: "process" });
/** The context of bytes from a network peer. */
const PEER_CTX: HandleContext = Object.freeze({ target: "process", peer: true });

const EMPTY = new Uint8Array(0);
/** Back-reference slots a reused decoder keeps between values. */
const KEPT_REFS = 1024;

/**
 * Reads one value out of bytes. One instance per isolate is reused (`decoderFor`), since a fresh
 * decoder and its back-reference array cost about a fifth of decoding a small object.
 */
class Decoder {
  pos = 0;
  buf: Uint8Array = EMPTY;
  /** Objects decoded so far, by back-reference index; `nrefs` of them are this value's. */
  private refs: unknown[] = [];
  private nrefs = 0;
  private dv: DataView | undefined;
  private nb: Buffer | undefined;
  ctx: HandleContext = PROCESS_CTX;
  owned = false;
  /** The input was copied into the slab for this decode alone: typed arrays are views of it. */
  slabbed = false;
  /** Decoding (a reviver that deserializes gets a decoder of its own). */
  busy = false;

  /** Points this decoder at `buf`. */
  begin(buf: Uint8Array, options: DeserializeOptions | undefined): this {
    this.busy = true;
    this.buf = buf;
    this.pos = 0;
    this.dv = undefined;
    this.nb = undefined;
    this.slabbed = false;
    // whether the input is shared memory is looked at only for a large typed array (ownBytes)
    this.owned = options?.owned === true;
    this.ctx = options?.peer ? PEER_CTX : options?.shared ? { target: "thread", shared: options.shared } : PROCESS_CTX;
    return this;
  }

  /** Lets go of the input and of everything decoded (so a reused decoder keeps nothing alive). */
  finish(): void {
    const refs = this.refs;
    // a value of many objects leaves a long array behind: drop it rather than keep its length
    if (this.nrefs > KEPT_REFS) this.refs = [];
    else for (let i = 0; i < this.nrefs; i++) refs[i] = undefined;
    this.nrefs = 0;
    this.buf = EMPTY;
    this.dv = undefined;
    this.nb = undefined;
    this.ctx = PROCESS_CTX;
    this.busy = false;
  }

  /** Records `o` under the next back-reference index; returns the index. */
  ref(o: unknown): number {
    const i = this.nrefs++;
    this.refs[i] = o;
    return i;
  }

  /** Sets what back-reference `i` (from {@link ref}) stands for. */
  setRef(i: number, o: unknown): void {
    this.refs[i] = o;
  }

  /** The object under back-reference `i`. */
  refAt(i: number): unknown {
    if (i >= this.nrefs) this.fail("bad back-reference");
    return this.refs[i];
  }

  /** A DataView over the input, made on first use (most small messages never need one). */
  get view(): DataView {
    return (this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  /** UTF-8 text of input bytes; through a Buffer view, which (unlike TextDecoder) reads shared memory too. */
  utf8(start: number, n: number): string {
    this.nb ??= Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.nb.toString("utf8", start, start + n);
  }

  fail(what: string): never {
    throw new SerializationError(`malformed data at byte ${this.pos}: ${what}`);
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) this.fail("truncated");
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 35) this.fail("varint too long");
    }
  }
  string(): string {
    const n = this.varint();
    this.need(n);
    const start = this.pos;
    this.pos += n;
    if (n < 32) {
      let s = "";
      for (let i = start; i < start + n; i++) {
        const c = this.buf[i];
        if (c >= 0x80) return this.utf8(start, n);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.utf8(start, n);
  }
  /**
   * An object key. Short ASCII keys repeat across messages ("id", "op", ...): they are looked up
   * in a small cache by their bytes instead of being built again, char by char.
   */
  key(): string {
    const buf = this.buf;
    const n = buf[this.pos];
    if (n === undefined || n === 0 || n > 24) return this.string();
    const start = this.pos + 1;
    if (start + n > buf.length) return this.string();
    let h = n;
    for (let i = start; i < start + n; i++) {
      const c = buf[i];
      if (c >= 0x80) return this.string();
      h = (Math.imul(h, 31) + c) | 0;
    }
    const slot = (h >>> 0) % KEY_CACHE_SIZE;
    const cached = keyCache[slot];
    if (cached !== undefined && cached.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (cached.charCodeAt(i) !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.pos = start + n;
        return cached;
      }
    }
    const k = this.string();
    keyCache[slot] = k;
    return k;
  }

  /**
   * Where the bytes of a typed array go: a small one (< 4 KiB) is copied into a slab shared by
   * many values (8-byte aligned, as Node's buffer pool), since an own ArrayBuffer costs ~0.8 µs
   * here against ~0.05 for the copy; so its `.buffer` is larger than the view, as for any pooled
   * Buffer. A larger one gets its own (see {@link Decoder.ownBytes}).
   */
  typedBytes(): { buffer: ArrayBufferLike; offset: number; length: number } {
    const n = this.varint();
    if (this.slabbed) {
      this.need(n);
      const offset = this.buf.byteOffset + this.pos;
      this.pos += n;
      return { buffer: this.buf.buffer, offset, length: n };
    }
    if (n >= POOLED_MAX) {
      const b = this.ownBytes(n);
      return { buffer: b.buffer, offset: b.byteOffset, length: n };
    }
    this.need(n);
    const offset = slabCarve(n);
    slab.set(this.buf.subarray(this.pos, this.pos + n), offset);
    this.pos += n;
    return { buffer: slab.buffer, offset, length: n };
  }

  bytes(): Uint8Array {
    return this.ownBytes(this.varint());
  }

  /** `n` bytes in an own, exact-size ArrayBuffer (or, when owned and large, a view of the input). */
  ownBytes(n: number): Uint8Array {
    this.need(n);
    if (this.owned && n >= 65536 && !(this.buf.buffer instanceof SharedArrayBuffer)) {
      const view = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      return view;
    }
    // an own, exact-size ArrayBuffer, as structured clone gives
    const out = allocLarge(n);
    out.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** An array written as one block of int32 (`size` 4) or float64 (8) numbers. */
  numbers(size: 4 | 8): unknown[] {
    const n = this.varint();
    if (n > (this.buf.length - this.pos) / size) this.fail("array length exceeds data");
    const bytes = n * size;
    // copied to an aligned block first: the message may sit at any offset of its buffer
    const block = size === 4 ? new Int32Array(n) : new Float64Array(n);
    if (LITTLE_ENDIAN) new Uint8Array(block.buffer).set(this.buf.subarray(this.pos, this.pos + bytes));
    else for (let i = 0; i < n; i++) block[i] = size === 4 ? this.view.getInt32(this.pos + i * 4, true) : this.view.getFloat64(this.pos + i * 8, true);
    this.pos += bytes;
    const a: unknown[] = new Array(n);
    this.ref(a);
    for (let i = 0; i < n; i++) a[i] = block[i];
    return a;
  }

  value(): unknown {
    const tag = this.u8();
    switch (tag) {
      case Tag.SmallInt:
        return this.u8();
      case Tag.Int32: {
        this.need(4);
        const v = this.view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case Tag.Float64:
        return this.f64();
      case Tag.String:
        return this.key();
      case Tag.True:
        return true;
      case Tag.False:
        return false;
      case Tag.Null:
        return null;
      case Tag.Undefined:
        return undefined;
      case Tag.BigInt: {
        const negative = this.u8() === 1;
        const bytes = this.bytes();
        let v = 0n;
        for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
        return negative ? -v : v;
      }
      case Tag.Object: {
        const o: Record<string, unknown> = {};
        this.ref(o);
        this.fields(o);
        return o;
      }
      case Tag.Int32s:
      case Tag.Float64s:
        return this.numbers(tag === Tag.Int32s ? 4 : 8);
      case Tag.Array: {
        const n = this.varint();
        if (n > this.buf.length - this.pos) this.fail("array length exceeds data");
        const a: unknown[] = new Array(n);
        this.ref(a);
        for (let i = 0; i < n; i++) {
          if (this.buf[this.pos] === Tag.Hole) {
            this.pos++;
            continue;
          }
          a[i] = this.value();
        }
        return a;
      }
      case Tag.Map: {
        const m = new Map();
        this.ref(m);
        const n = this.varint();
        for (let i = 0; i < n; i++) {
          const k = this.value();
          m.set(k, this.value());
        }
        return m;
      }
      case Tag.Set: {
        const s = new Set();
        this.ref(s);
        const n = this.varint();
        for (let i = 0; i < n; i++) s.add(this.value());
        return s;
      }
      case Tag.Date: {
        const d = new Date(this.f64());
        this.ref(d);
        return d;
      }
      case Tag.RegExp: {
        const source = this.string();
        const flags = this.string();
        let r: RegExp;
        try {
          r = new RegExp(source, flags);
        } catch {
          this.fail("bad RegExp");
        }
        this.ref(r);
        return r;
      }
      case Tag.ArrayBuffer: {
        const slot = this.ref(undefined);
        const b = this.bytes();
        const ab = b.buffer.byteLength === b.byteLength ? b.buffer : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
        this.setRef(slot, ab);
        return ab;
      }
      case Tag.TypedArray:
        return this.typedArray();
      case Tag.SharedArrayBuffer: {
        const sab = this.sharedAt(this.varint());
        this.ref(sab);
        return sab;
      }
      case Tag.Error:
        return this.error();
      case Tag.BackRef: {
        return this.refAt(this.varint());
      }
      case Tag.Class: {
        const name = this.string();
        const cls = registeredClass(name);
        if (!cls) throw new SerializationError(`class "${name}" is not registered here (call registerClass in this thread or process too)`);
        const o = Object.create(cls.prototype) as Record<string, unknown>;
        this.ref(o);
        this.fields(o);
        return o;
      }
      case Tag.Handle: {
        const slot = this.ref(undefined);
        const type = this.string();
        const module = this.string();
        const state = this.value();
        const obj = revive(reviverFor(type, module || undefined, this.ctx), type, state, this.ctx);
        this.setRef(slot, obj);
        return obj;
      }
      case Tag.Boxed: {
        const slot = this.ref(undefined);
        const o = Object(this.value());
        this.setRef(slot, o);
        return o;
      }
      default:
        return this.fail(`unknown tag ${tag}`);
    }
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  fields(o: Record<string, unknown>): void {
    const n = this.varint();
    for (let i = 0; i < n; i++) {
      const k = this.key();
      const v = this.value();
      if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      else o[k] = v;
    }
  }

  sharedAt(i: number): SharedArrayBuffer {
    const sab = this.ctx.shared?.[i];
    if (!sab) this.fail("reference to a shared buffer that did not travel with the data");
    return sab;
  }

  typedArray(): ArrayBufferView {
    const slot = this.ref(undefined);
    const k = this.u8();
    const kind = k & 0x7f;
    const ctor = typedArrayKinds[kind];
    if (!ctor) this.fail(`unknown typed-array kind ${kind}`);
    let buffer: ArrayBufferLike;
    let offset: number;
    let length: number;
    if (kind === BUFFER_KIND && !(k & 0x80)) {
      // a Buffer revives as Node makes small Buffers: from the shared pool (no own ArrayBuffer per value)
      const n = this.varint();
      this.need(n);
      const b = Buffer.allocUnsafe(n);
      b.set(this.buf.subarray(this.pos, this.pos + n));
      this.pos += n;
      this.setRef(slot, b);
      return b;
    }
    if (k & 0x80) {
      offset = this.varint();
      length = this.varint();
      if (this.u8() !== Tag.SharedArrayBuffer) this.fail("expected a shared buffer");
      buffer = this.sharedAt(this.varint());
    } else {
      ({ buffer, offset, length } = this.typedBytes());
    }
    let out: ArrayBufferView;
    if (kind === BUFFER_KIND) out = Buffer.from(buffer, offset, length);
    else if (kind === DATAVIEW_KIND) out = new DataView(buffer, offset, length);
    else {
      const per = (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      if (length % per !== 0) this.fail("typed-array length is not a multiple of its element size");
      if (offset % per !== 0) {
        // unaligned within our scratch copy: copy into a fresh buffer
        const copy = new Uint8Array(length);
        copy.set(new Uint8Array(buffer, offset, length));
        buffer = copy.buffer;
        offset = 0;
      }
      out = new (ctor as unknown as new (b: ArrayBufferLike, o: number, l: number) => ArrayBufferView)(buffer, offset, length / per);
    }
    this.setRef(slot, out);
    return out;
  }

  error(): Error {
    const slot = this.ref(undefined);
    const name = this.string();
    const message = this.string();
    const stack = this.string();
    const Cls = errorClasses.get(name) ?? Error;
    const err = new Cls(message);
    this.setRef(slot, err);
    if (this.u8() === 1) Object.defineProperty(err, "cause", { value: this.value(), writable: true, configurable: true });
    if (err.name !== name) Object.defineProperty(err, "name", { value: name, writable: true, configurable: true });
    Object.defineProperty(err, "stack", { value: stack || `${name}: ${message}`, writable: true, configurable: true });
    if (this.u8() !== Tag.Object) this.fail("expected error fields");
    const extra: Record<string, unknown> = {};
    this.fields(extra);
    for (const k of Object.keys(extra)) {
      try {
        Object.defineProperty(err, k, { value: extra[k], writable: true, configurable: true, enumerable: k !== "code" });
      } catch {
        // a read-only field on the local class: keep the local value
      }
    }
    return err;
  }
}

/** Typed arrays below this size are decoded into a shared slab (as Node pools Buffers below 4 KiB). */
const POOLED_MAX = 4096;
const SLAB_SIZE = 65536;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

/** Reserves `n` bytes of the slab (8-byte aligned), starting a new slab when it is full. */
function slabCarve(n: number): number {
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const offset = slabUsed;
  slabUsed = (offset + n + 7) & ~7;
  return offset;
}

/**
 * Turns bytes made by `serialize` back into a value. Handles are revived as working objects;
 * classes revive with the prototype registered under their name.
 *
 * Typed arrays under 4 KiB are cut from a slab shared by many decoded values (as Node's
 * `Buffer.allocUnsafe` pools small Buffers): use their bytes (`byteOffset`, `byteLength`), not
 * their whole `.buffer`; `.slice()` gives one with an own ArrayBuffer. `ArrayBuffer` values and
 * larger arrays always get an own, exact buffer.
 *
 * @throws SerializationError on malformed bytes or an unknown registered class.
 */
export function deserialize<T = unknown>(bytes: Uint8Array, options?: DeserializeOptions): T {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("deserialize expects a Uint8Array");
  const n = bytes.byteLength;
  // a small item is decoded where it is (the size first: reading `.buffer` costs ~20 ns)
  if (n < STAGE_MIN) return decodeAll(bytes, options);
  if (bytes.buffer instanceof SharedArrayBuffer && n < POOLED_MAX) {
    // a small item in shared memory: one aligned copy into the slab, whose typed arrays are
    // then views of that copy (see the next case for why)
    const offset = slabCarve(n);
    slab.set(bytes, offset);
    const d = decoderFor(slab.subarray(offset, offset + n), options && { shared: options.shared, peer: options.peer });
    d.slabbed = true;
    return decodeWhole(d);
  }
  if (bytes.buffer instanceof SharedArrayBuffer && n <= STAGE_MAX && !staging) {
    // V8 copies out of shared memory word by word only at 8-byte-aligned offsets; the arrays
    // inside an item seldom are (~6x slower): copy the whole item out at once (the ring keeps
    // items aligned), then decode from private memory
    staging = true;
    try {
      if (stage.length < bytes.byteLength) stage = new Uint8Array(STAGE_MAX);
      stage.set(bytes);
      return decodeAll(stage.subarray(0, bytes.byteLength), options && { shared: options.shared, peer: options.peer });
    } finally {
      staging = false;
    }
  }
  return decodeAll(bytes, options);
}

/** This isolate's decoder, or a fresh one when it is busy (a reviver that deserializes). */
const shared = new Decoder();
function decoderFor(bytes: Uint8Array, options: DeserializeOptions | undefined): Decoder {
  return (shared.busy ? new Decoder() : shared).begin(bytes, options);
}

function decodeAll<T>(bytes: Uint8Array, options: DeserializeOptions | undefined): T {
  return decodeWhole(decoderFor(bytes, options));
}

/** The value `d` holds, which must be all of its input; then `d` lets go of it. */
function decodeWhole<T>(d: Decoder): T {
  try {
    const v = decodeValue(d);
    if (d.pos !== d.buf.length) d.fail("trailing bytes");
    return v as T;
  } finally {
    d.finish();
  }
}

/** Runs a reviver; state it cannot use (a forged or damaged handle) is a SerializationError. */
function revive(reviver: Reviver, type: string, state: unknown, ctx: HandleContext): unknown {
  try {
    return reviver(state, ctx);
  } catch (error) {
    if (IpcError.isIpcError(error) || isStackOverflow(error)) throw error;
    throw new SerializationError(`bad ${type} handle: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

/** The value at the decoder's position; input nested deeper than the stack allows is malformed. */
function decodeValue(d: Decoder): unknown {
  try {
    return d.value();
  } catch (error) {
    if (isStackOverflow(error)) throw new SerializationError(`malformed data: nested too deeply to decode`);
    throw error;
  }
}

/** True for V8's "Maximum call stack size exceeded". */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/** Items in shared memory from this size up are copied out before decoding (see deserialize). */
const STAGE_MIN = 256;
const STAGE_MAX = 65536;
let stage = new Uint8Array(0);
let staging = false;

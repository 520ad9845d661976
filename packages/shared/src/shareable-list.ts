/**
 * ShareableList: a fixed-length list of numbers, bigints, booleans, null, strings and bytes in a
 * named SharedMemory, as Python's `multiprocessing.shared_memory.ShareableList`: attachable by name
 * from any process. Each item gets a slot when the list is made: 8 bytes for a number, bigint,
 * boolean or null, and its UTF-8 (or byte) length rounded up to a multiple of 8 for a string or
 * bytes (Python's sizing: `'encodés'` is 8 bytes and fits its slot again, `'encodées'` is 9 and
 * does not). No lock, as in Python.
 *
 * | bytes | who writes | meaning |
 * |---|---|---|
 * | 0-7 | the creator | `MAGIC` (u32), item count (u32) |
 * | 8 + 16 k .. | the creator (offset, capacity); any writer of item k (type, length) | item k: type (u32: 0 null, 1 number, 2 bigint, 3 boolean, 4 string, 5 bytes), length in bytes (u32), slot offset (u32), slot capacity (u32) |
 * | after the table | writers of each item | the slots, 8-byte aligned |
 *
 * Memory ordering: none beyond the platform's (as Python's): a reader may see an item half
 * written by a concurrent writer. Guard concurrent writes with a Lock.
 */
import { InvalidStateError, registerHandleType, toHandle, type HandleDescriptor } from "@ipc/core";
import { SharedMemory } from "./shared-memory.js";

const TYPE = "@ipc/shared:ShareableList";
const MAGIC = 0x5348_4c31; // "SHL1"
const NULL = 0;
const NUMBER = 1;
const BIGINT = 2;
const BOOLEAN = 3;
const STRING = 4;
const BYTES = 5;

/** What a ShareableList holds. */
export type ShareableItem = number | bigint | boolean | string | Uint8Array | null;

const te = new TextEncoder();
const td = new TextDecoder();

function encodeItem(v: unknown): { type: number; bytes?: Uint8Array } {
  if (v === null) return { type: NULL };
  if (typeof v === "number") return { type: NUMBER };
  if (typeof v === "bigint") return { type: BIGINT };
  if (typeof v === "boolean") return { type: BOOLEAN };
  if (typeof v === "string") return { type: STRING, bytes: te.encode(v) };
  if (v instanceof Uint8Array) return { type: BYTES, bytes: v };
  throw new TypeError(`a ShareableList holds numbers, bigints, booleans, null, strings and Uint8Arrays, not ${v === undefined ? "undefined" : typeof v}`);
}

const slotSize = (e: { bytes?: Uint8Array }) => (e.bytes ? Math.ceil(e.bytes.byteLength / 8) * 8 : 8);

/**
 * A fixed-length list in shared memory, attachable by name.
 *
 * @example
 * const sl = new ShareableList([1, "encodés", null, 2n]);
 * sl.set(1, "howdy"); // fits the 8 bytes "encodés" got
 * const same = new ShareableList({ name: sl.shm.name }); // in any process
 * same.get(1); // "howdy"
 */
export class ShareableList {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  /** The SharedMemory the list lives in (its `name` attaches another ShareableList to it). */
  readonly shm: SharedMemory;
  readonly #view: DataView;
  /** Number of items. */
  readonly length: number;

  /** Makes a list of `items` (in a new SharedMemory, named `opts.name` or a generated name), or attaches to `{ name }`. */
  constructor(items: Iterable<ShareableItem> | { name: string }, opts: { name?: string } = {}) {
    if (items !== null && typeof items === "object" && !(Symbol.iterator in items)) {
      this.shm = new SharedMemory({ name: (items).name });
      this.#view = new DataView(this.shm.buf.buffer, this.shm.buf.byteOffset, this.shm.size);
      if (this.shm.size < 8 || this.#view.getUint32(0, true) !== MAGIC) throw new InvalidStateError(`the SharedMemory "${this.shm.name}" holds no ShareableList`);
      this.length = this.#view.getUint32(4, true);
      return;
    }
    const list = [...(items)];
    const encoded = list.map(encodeItem);
    const table = 8 + 16 * list.length;
    let offset = Math.ceil(table / 8) * 8;
    const slots = encoded.map((e) => {
      const at = offset;
      offset += slotSize(e);
      return at;
    });
    this.shm = new SharedMemory({ name: opts.name, create: true, size: Math.max(8, offset) });
    this.#view = new DataView(this.shm.buf.buffer, this.shm.buf.byteOffset, this.shm.size);
    this.#view.setUint32(0, MAGIC, true);
    this.#view.setUint32(4, list.length, true);
    this.length = list.length;
    encoded.forEach((e, k) => {
      this.#view.setUint32(8 + 16 * k + 8, slots[k], true);
      this.#view.setUint32(8 + 16 * k + 12, slotSize(e), true);
      this.#write(k, list[k]!, e);
    });
  }

  #entry(i: number): number {
    if (typeof i !== "number" || !Number.isInteger(i)) throw new TypeError(`Expected an integer index, got ${typeof i}`);
    const k = i < 0 ? this.length + i : i;
    if (k < 0 || k >= this.length) throw new RangeError(`index ${i} out of range for a ShareableList of length ${this.length}`);
    return 8 + 16 * k;
  }

  /** Item `i` (negative counts from the end). @throws RangeError out of range. */
  get(i: number): ShareableItem {
    const at = this.#entry(i);
    const v = this.#view;
    const type = v.getUint32(at, true);
    const length = v.getUint32(at + 4, true);
    const slot = v.getUint32(at + 8, true);
    switch (type) {
      case NULL:
        return null;
      case NUMBER:
        return v.getFloat64(slot, true);
      case BIGINT:
        return v.getBigInt64(slot, true);
      case BOOLEAN:
        return v.getUint8(slot) === 1;
      case STRING:
        return td.decode(new Uint8Array(v.buffer, v.byteOffset + slot, length));
      default:
        return new Uint8Array(v.buffer, v.byteOffset + slot, length).slice();
    }
  }

  /**
   * Replaces item `i`. A string or bytes must fit the item's slot (its length rounded up to 8 when
   * the list was made; 8 bytes for other items). @throws RangeError when it does not (Python's
   * ValueError), TypeError for a value a ShareableList cannot hold.
   */
  set(i: number, value: ShareableItem): void {
    const at = this.#entry(i);
    this.#write((at - 8) / 16, value, encodeItem(value));
  }

  #write(k: number, value: unknown, e: { type: number; bytes?: Uint8Array }): void {
    const v = this.#view;
    const at = 8 + 16 * k;
    const slot = v.getUint32(at + 8, true);
    const capacity = v.getUint32(at + 12, true);
    const need = e.bytes ? e.bytes.byteLength : 8;
    if (need > capacity) throw new RangeError(`a value of ${need} bytes exceeds the ${capacity} bytes of item ${k}'s slot`);
    if (e.type === NUMBER) v.setFloat64(slot, value as number, true);
    else if (e.type === BIGINT) v.setBigInt64(slot, BigInt.asIntN(64, value as bigint), true);
    else if (e.type === BOOLEAN) v.setUint8(slot, value ? 1 : 0);
    else if (e.bytes) new Uint8Array(v.buffer, v.byteOffset + slot, capacity).set(e.bytes);
    v.setUint32(at + 4, e.bytes ? e.bytes.byteLength : 0, true);
    v.setUint32(at, e.type, true);
  }

  /** The items, as a plain array. */
  toArray(): ShareableItem[] {
    return Array.from({ length: this.length }, (_, i) => this.get(i));
  }

  [Symbol.iterator](): Iterator<ShareableItem> {
    return this.toArray()[Symbol.iterator]();
  }

  /** How many items equal `value`. */
  count(value: ShareableItem): number {
    return this.toArray().filter((x) => same(x, value)).length;
  }

  /** The index of the first item equal to `value`. @throws RangeError (Python's ValueError) when none is. */
  index(value: ShareableItem): number {
    const k = this.toArray().findIndex((x) => same(x, value));
    if (k < 0) throw new RangeError(`${String(value)} is not in the ShareableList`);
    return k;
  }

  /** @internal handed on by name */
  [toHandle](): HandleDescriptor {
    return { type: TYPE, module: import.meta.url, state: { name: this.shm.name } };
  }

  toString(): string {
    return `<ShareableList ${JSON.stringify(this.shm.name)} length=${this.length}>`;
  }
}

function same(a: ShareableItem, b: ShareableItem): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
  return Object.is(a, b) || a === b;
}

registerHandleType(TYPE, (state: { name?: unknown }) => {
  if (typeof state?.name !== "string") throw new InvalidStateError("bad ShareableList handle");
  return new ShareableList({ name: state.name });
});

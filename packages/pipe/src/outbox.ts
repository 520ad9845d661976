/**
 * The sending side of one end of a pipe: puts messages into the end's write ring, and keeps the
 * ones that find no room in a backlog, in order, pumped into the ring asynchronously (so `send`
 * never blocks the event loop). Waits are sliced so that a dead reader is noticed: after each
 * slice the owner checks the other end (`peerGone`), which shuts the ring down when nobody is left
 * to read, ending the wait with the send error.
 */
import { FullError, TimeoutError } from "@ipc/core";
import { Deadline, recycleSerialized, type Ring } from "@ipc/core/internal";
import { probeSlice } from "./channel.js";

const ZERO = new Deadline(0);
const FOREVER = new Deadline(Infinity);
const EMPTY = new Uint8Array(0);
/**
 * Large messages are handed over, not streamed (core's ring.ts): a pipe's rings are read only in
 * this process (an end in another process is relayed), so the sender copies a message once into a
 * native block and the receiver takes that block as its buffer.
 */
const HAND_OVER = true;

/** What an outbox asks of the end that owns it. */
export interface OutboxOwner {
  /** The error a send reports for `e` (a shut ring: closed, broken pipe, a relay's failure). */
  sendError(e: unknown): unknown;
  /** Checks the other end after a slice of waiting (may shut the ring down). */
  peerGone(): void;
  /** The backlog became empty (or failed) after the owner was closed. */
  drained(): void;
}

/** The send side of one end: direct puts, a backlog and its pump. */
export class Outbox {
  /** Messages sent while the ring had no room, in order, from `#next` on (no O(n) shifts). */
  #backlog: Uint8Array[] = [];
  #next = 0;
  #pump: Promise<void> | undefined;
  #error: Error | undefined;

  constructor(
    readonly ring: Ring,
    private readonly owner: OutboxOwner,
  ) {}

  /** True while buffered messages are being pumped into the ring. */
  get pumping(): boolean {
    return this.#pump !== undefined;
  }

  /** What a buffered send met (later sends report it). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Puts `bytes` now if there is room and nothing is buffered, else buffers them (`owned`: the caller gives them up). */
  enqueue(bytes: Uint8Array, owned: boolean): void {
    if (this.#pump === undefined && this.fits(bytes) && this.tryPut(bytes)) {
      if (owned) recycleSerialized(bytes);
      return;
    }
    // the caller may reuse its buffer at once: the backlog keeps a copy
    this.#backlog.push(owned ? bytes : bytes.slice());
    this.#startPump();
  }

  /** Starts the pump unless it runs; its end is observed asynchronously, after `#pump` is set. */
  #startPump(): void {
    if (this.#pump) return;
    this.#pump = this.#runPump().finally(() => {
      this.#pump = undefined;
      if (this.#next < this.#backlog.length && !this.#error) this.#startPump();
      else this.owner.drained();
    });
  }

  /**
   * True when a put with a deadline of 0 cannot wait: one frame, a large message handed over (one
   * frame too), or the whole item fits now.
   */
  fits(bytes: Uint8Array): boolean {
    const ring = this.ring;
    return bytes.byteLength + 8 <= ring.maxChunk || ring.handsOver(bytes.byteLength) || ring.fitsNow(bytes.byteLength);
  }

  /** Puts a message if there is room now (callers check {@link fits}: it never waits mid-item). */
  tryPut(bytes: Uint8Array): boolean {
    if (this.ring.tryPutFrame(bytes, false)) return true;
    try {
      this.ring.putSync(bytes, { deadline: ZERO, handOver: HAND_OVER });
      return true;
    } catch (e) {
      if (e instanceof FullError) return false;
      throw this.owner.sendError(e);
    }
  }

  async #runPump(): Promise<void> {
    try {
      while (this.#next < this.#backlog.length) {
        const bytes = this.#backlog[this.#next];
        // after a wake-up, fill the room there is without waiting again (one wake-up per batch)
        if (!(this.fits(bytes) && this.tryPut(bytes))) await this.#putAsync(bytes, FOREVER);
        this.#backlog[this.#next++] = EMPTY;
      }
      this.#backlog = [];
      this.#next = 0;
    } catch (e) {
      this.#error = this.owner.sendError(e) as Error;
      this.#backlog = [];
      this.#next = 0;
    }
  }

  /** Puts with waits sliced so that a dead reader is noticed. */
  async #putAsync(bytes: Uint8Array, deadline: Deadline): Promise<void> {
    for (;;) {
      const slice = probeSlice(deadline);
      try {
        await this.ring.putAsync(bytes, { deadline: slice, handOver: HAND_OVER });
        return;
      } catch (e) {
        if (!(e instanceof FullError)) throw e;
        if (deadline.expired()) throw new TimeoutError("the pipe had no room in time");
        this.owner.peerGone();
      }
    }
  }

  /** Puts `bytes`, blocking this thread while the pipe has no room, until `deadline`. */
  putSync(bytes: Uint8Array, deadline: Deadline, owned: boolean): void {
    for (;;) {
      const slice = probeSlice(deadline);
      try {
        this.ring.putSync(bytes, { deadline: slice, handOver: HAND_OVER });
        if (owned) recycleSerialized(bytes);
        return;
      } catch (e) {
        if (!(e instanceof FullError)) throw this.owner.sendError(e);
        if (deadline.expired()) throw new TimeoutError("the pipe had no room in time");
        this.owner.peerGone();
      }
    }
  }

  /** Resolves when every message sent so far has entered the pipe. @throws what a buffered send met. */
  async drain(): Promise<void> {
    while (this.#pump) await this.#pump;
    if (this.#error) throw this.#error;
  }
}

/** The bytes `sendBytes` sends, with Python's bounds rules (offset and size in bytes). */
export function bytesOf(buf: ArrayBufferView | ArrayBuffer, offset: number, size: number | undefined): Uint8Array {
  let base: Uint8Array;
  if (buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer) base = new Uint8Array(buf);
  else if (ArrayBuffer.isView(buf)) base = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  else throw new TypeError("Expected `buf` to be an ArrayBuffer, a TypedArray, a DataView or a Buffer");
  const n = base.byteLength;
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`Expected \`offset\` to be an integer >= 0, got ${String(offset)}`);
  if (offset > n) throw new RangeError(`buffer length ${n} < offset ${offset}`);
  const count = size === undefined ? n - offset : size;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`Expected \`size\` to be an integer >= 0, got ${String(size)}`);
  if (offset + count > n) throw new RangeError(`buffer length ${n} < offset + size (${offset + count})`);
  return base.subarray(offset, offset + count);
}

/**
 * The sending side of one end of a pipe: puts messages into the end's write ring, and keeps the
 * ones that find no room in a backlog, in order, moved into the ring by each later send and by a
 * pump that waits for room asynchronously (so `send` never blocks the event loop, and a sender
 * that never yields still keeps the pipe fed and its backlog short). Waits are sliced so that a
 * dead reader is noticed: after each slice the owner checks the other end (`peerGone`), which
 * shuts the ring down when nobody is left to read, ending the wait with the send error.
 */
import { FullError, ShutDownError, TimeoutError } from "@ipc/core";
import { addMover, Deadline, FrameBatch, recycleSerialized, removeMover, registerSleeper, unregisterSleeper, type Ring } from "@ipc/core/internal";
import { PROBE_MS, probeSlice } from "./channel.js";

const ZERO = new Deadline(0);
const FOREVER = new Deadline(Infinity);
const EMPTY = new Uint8Array(0);
/** A frame batch larger than this is not kept for reuse once emptied. */
const KEPT_BATCH = 1 << 20;

/** What an outbox asks of the end that owns it. */
export interface OutboxOwner {
  /** The error a send reports for `e` (a shut ring: closed, broken pipe, a relay's failure). */
  sendError(e: unknown): unknown;
  /** Checks the other end after a slice of waiting (may shut the ring down). */
  peerGone(): void;
  /** The backlog became empty (or failed) after the owner was closed. */
  drained(): void;
}

/**
 * The send side of one end: direct puts, a backlog and its pump. The pump waits for room in the
 * ring, not to put one given message: so every `send` can also move the backlog on into the ring
 * itself, in order, which keeps the pipe fed (and the backlog short) while a sender's loop never
 * yields to the event loop (`await conn.send(x)` in a loop only yields to microtasks, which a
 * wake-up of the pump never is).
 */
export class Outbox {
  /**
   * Messages sent while the ring had no room, in order, from `#next` on (no O(n) shifts): runs of
   * small ones as frame batches (laid out as ring frames, moved in one piece), others as bytes.
   */
  #backlog: (Uint8Array | FrameBatch)[] = [];
  /** An emptied batch kept for the next run of small messages. */
  #spareBatch: FrameBatch | undefined;
  #next = 0;
  #pump: Promise<void> | undefined;
  /** Ends the pump's wait for room early (the backlog was emptied by a send). */
  #stopWaiting: AbortController | undefined;
  /** The pump is streaming the backlog's first message (one of several frames): nothing may pass it. */
  #streaming = false;
  #error: Error | undefined;
  /** The backlog's mover for core's blocking waits (memory/before-block.ts): a streamed message waits for the pump. */
  readonly #mover = (): boolean => this.#streaming || this.moveOn();

  constructor(
    readonly ring: Ring,
    private readonly owner: OutboxOwner,
    /**
     * Large messages are handed over, not streamed (core's ring.ts): for a ring only this process
     * reads (a pipe in a `SharedArrayBuffer`; an end in another process is relayed), the sender
     * copies a message once into a native block and the receiver takes that block as its buffer.
     */
    private readonly handOver: boolean,
  ) {}

  /** True while sent messages wait in the backlog (a new message must queue behind them). */
  get pumping(): boolean {
    return this.#next < this.#backlog.length;
  }

  /** What a buffered send met (later sends report it). */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Sends a message whose bytes the encoder lends (valid only during the call): into the ring at
   * once when nothing waits and there is room; otherwise a one-frame message is appended to the
   * backlog's frame batch (a copy of its bytes, no buffer of its own) and the backlog is moved on
   * as far as there is room. False when the caller must take the bytes and {@link enqueue} them:
   * a message larger than one frame, or a ring that is not open (enqueue reports why).
   */
  offer(bytes: Uint8Array): boolean {
    const ring = this.ring;
    if (!this.pumping) {
      if (ring.tryPutFrame(bytes, false)) return true;
      if (!ring.isOpen()) return false;
    }
    if (bytes.byteLength + 8 > ring.maxChunk) return false;
    // batched only while nothing but small messages wait; behind a large message the caller
    // buffers the bytes as an entry of their own, as all messages were before batches (see
    // docs/design.md: a small message was once seen ahead of a large one sent before it)
    if (this.pumping && !(this.#backlog.length - this.#next === 1 && this.#backlog[this.#next] instanceof FrameBatch)) return false;
    this.#batch().append(bytes);
    // (moving the backlog only every 16th send, to read the reader's cache line less often, was
    // measured: no difference, and a sender that then blocks could leave messages behind)
    if (this.#fill()) this.#stopWaiting?.abort();
    else this.#startPump();
    if (this.#error) throw this.#error;
    return true;
  }

  /** The frame batch at the end of the backlog, a new one if the last entry is not one. */
  #batch(): FrameBatch {
    const last = this.#backlog.length > this.#next ? this.#backlog[this.#backlog.length - 1] : undefined;
    if (last instanceof FrameBatch) return last;
    const batch = this.#spareBatch ?? new FrameBatch();
    this.#spareBatch = undefined;
    this.#backlog.push(batch);
    return batch;
  }

  /**
   * Moves buffered messages into the ring as far as there is room now; true when none is left. A
   * blocking receive on this end calls it (its pump cannot run while the thread is blocked, and
   * the other end may be waiting for these messages before it answers).
   */
  moveOn(): boolean {
    if (!this.pumping) return true;
    const done = this.#fill();
    if (done) this.#stopWaiting?.abort();
    return done;
  }

  /** Puts `bytes` now if there is room and nothing is buffered, else buffers them (`owned`: the caller gives them up). */
  enqueue(bytes: Uint8Array, owned: boolean): void {
    if (this.pumping && this.#fill()) this.#stopWaiting?.abort();
    if (this.#error) throw this.#error;
    if (!this.pumping && this.fits(bytes) && this.tryPut(bytes)) {
      if (owned) recycleSerialized(bytes);
      return;
    }
    // the caller may reuse its buffer at once: the backlog keeps a copy
    this.#backlog.push(owned ? bytes : bytes.slice());
    this.#startPump();
  }

  /**
   * Moves buffered messages into the ring while they fit now, in order. True when none is left.
   * A send error ends the backlog: it is recorded for later sends and `drain`.
   */
  #fill(): boolean {
    if (this.#streaming) return false;
    try {
      while (this.#next < this.#backlog.length) {
        const entry = this.#backlog[this.#next];
        if (entry instanceof FrameBatch) {
          this.ring.tryPutFrames(entry);
          if (!entry.isEmpty()) {
            if (!this.ring.isOpen()) throw this.owner.sendError(new ShutDownError("the pipe is shut down"));
            return false;
          }
          if (entry.buf.byteLength <= KEPT_BATCH) this.#spareBatch = entry;
        } else if (!(this.fits(entry) && this.tryPut(entry))) return false;
        this.#backlog[this.#next++] = EMPTY;
      }
    } catch (e) {
      this.#error = e as Error;
    }
    this.#backlog = [];
    this.#next = 0;
    return true;
  }

  /** Starts the pump unless it runs; its end is observed asynchronously, after `#pump` is set. */
  #startPump(): void {
    if (this.#pump) return;
    // while the pump runs, any blocking wait of this thread moves the backlog on (the pump cannot:
    // it needs the event loop the wait holds); a message being streamed waits for the pump
    addMover(this.#mover);
    this.#pump = this.#runPump().finally(() => {
      this.#pump = undefined;
      if (this.pumping && !this.#error) this.#startPump();
      else {
        removeMover(this.#mover);
        this.owner.drained();
      }
    });
  }


  /**
   * True when a put with a deadline of 0 cannot wait: one frame, a large message handed over (one
   * frame too), or the whole item fits now.
   */
  fits(bytes: Uint8Array): boolean {
    const ring = this.ring;
    return bytes.byteLength + 8 <= ring.maxChunk || (this.handOver && ring.handsOver(bytes.byteLength)) || ring.fitsNow(bytes.byteLength);
  }

  /** Puts a message if there is room now (callers check {@link fits}: it never waits mid-item). */
  tryPut(bytes: Uint8Array): boolean {
    const ring = this.ring;
    if (ring.tryPutFrame(bytes, false)) return true;
    // no room for a one-frame message: say so without the general put's FullError (a send per
    // message meets this while the reader catches up)
    if (bytes.byteLength + 8 <= ring.maxChunk && !ring.fitsNow(bytes.byteLength) && ring.isOpen()) return false;
    try {
      ring.putSync(bytes, { deadline: ZERO, handOver: this.handOver });
      return true;
    } catch (e) {
      if (e instanceof FullError) return false;
      throw this.owner.sendError(e);
    }
  }

  /**
   * Fills the ring from the backlog, then sleeps until a consumer frees room (waits sliced, so
   * that a dead reader is noticed: after each slice the owner checks the other end, which shuts
   * the ring down when nobody is left to read, and the next fill meets the send error). A message
   * of several frames that does not fit whole streams in as room frees, the pump putting it.
   */
  async #runPump(): Promise<void> {
    const { i32, index, counter, backend } = this.ring.spaceWaiter();
    try {
      for (;;) {
        // the sequence word is read before looking for room: a consumer freeing room after the
        // look bumps it, and the wait below returns at once
        const seq = Atomics.load(i32, index);
        if (this.#fill()) return;
        const head = this.#backlog[this.#next];
        if (!(head instanceof FrameBatch) && !this.fits(head)) {
          this.#streaming = true;
          try {
            await this.#putAsync(head, FOREVER);
          } finally {
            this.#streaming = false;
          }
          this.#backlog[this.#next++] = EMPTY;
          continue;
        }
        const stop = (this.#stopWaiting = new AbortController());
        registerSleeper(i32, counter);
        try {
          await backend.waitAsync(i32, index, seq, PROBE_MS, stop.signal).catch(() => undefined);
        } finally {
          unregisterSleeper(i32, counter);
          this.#stopWaiting = undefined;
        }
        if (!this.pumping) return;
        this.owner.peerGone();
      }
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
        await this.ring.putAsync(bytes, { deadline: slice, handOver: this.handOver });
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
        this.ring.putSync(bytes, { deadline: slice, handOver: this.handOver });
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
    while (this.pumping && this.#pump) await this.#pump;
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

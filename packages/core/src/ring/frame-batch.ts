/**
 * One-frame items laid out as a ring lays them out (frame-format.ts), in private memory, to be
 * moved into a ring later in one piece (`Ring.tryPutFrames`): a pipe end's backlog of small
 * messages sent while its ring had no room. Appending copies a message's bytes once and makes no
 * object per message; moving a run of them costs one lock, one copy and one wake-up.
 *
 * | bytes | meaning |
 * |---|---|
 * | `start`..`end` | frames not yet moved: u32 `FIRST \| LAST \| n`, u32 `n`, `n` bytes, padding to 8 |
 *
 * Private memory of one thread: no atomics, no memory-ordering concerns (the ring's own
 * publication orders the copy).
 */
import { FIRST, LAST, LENGTH_MASK, frameBytes } from "./frame-format.js";

/** Initial size of a batch's buffer. */
const INITIAL = 4096;

/** A growable run of frames in private memory (see the module comment). */
export class FrameBatch {
  /** The frames, from `start` to `end`. */
  buf = new Uint8Array(INITIAL);
  start = 0;
  end = 0;
  /** Frames between `start` and `end`. */
  count = 0;

  /** True when every frame appended was moved out. */
  isEmpty(): boolean {
    return this.start === this.end;
  }

  /** Appends `bytes` as one frame (`bytes` must fit one frame of the ring it goes to). */
  append(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    const size = frameBytes(n);
    if (this.end + size > this.buf.length) this.#room(size);
    const b = this.buf;
    const p = this.end;
    writeU32(b, p, (FIRST | LAST | n) >>> 0);
    writeU32(b, p + 4, n);
    // a short message byte by byte (a typed array's set is a runtime call, ~20 ns)
    if (n <= 64) for (let i = 0; i < n; i++) b[p + 8 + i] = bytes[i];
    else b.set(bytes, p + 8);
    this.end = p + size;
    this.count++;
  }

  /** Marks the frames up to `pos` (a frame boundary `Ring.tryPutFrames` returned) as moved. */
  movedTo(pos: number, frames: number): void {
    this.start = pos;
    this.count -= frames;
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** Makes room for `size` more bytes: moves the frames left to the front, or grows. */
  #room(size: number): void {
    const live = this.end - this.start;
    if (live + size <= this.buf.length >>> 1 || (this.start > 0 && live + size <= this.buf.length)) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      let next = this.buf.length * 2;
      while (next < live + size) next *= 2;
      const grown = new Uint8Array(next);
      grown.set(this.buf.subarray(this.start, this.end));
      this.buf = grown;
    }
    this.start = 0;
    this.end = live;
  }
}

/** The payload length in the frame header at `p` of `b`. */
export function frameLength(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) & LENGTH_MASK;
}

function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v & 0xff;
  b[p + 1] = (v >>> 8) & 0xff;
  b[p + 2] = (v >>> 16) & 0xff;
  b[p + 3] = v >>> 24;
}

/**
 * Splits a byte stream into frames: a 4-byte big-endian length, then that many bytes (the same
 * framing as Python's `multiprocessing.connection`). A frame longer than `maxFrameSize` is a
 * protocol error: the connection must be closed, since the stream can no longer be trusted.
 */
import { ProtocolError } from "../errors/errors.js";

/** Default largest frame accepted: 256 MiB. */
export const DEFAULT_MAX_FRAME = 256 * 1024 * 1024;

/** Incremental frame reader. Feed it chunks; it returns the complete frames. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  /** Bytes of `chunks[0]` already consumed (no re-slicing per frame). */
  private offset = 0;
  private buffered = 0;
  private need = -1;

  /** Largest frame accepted; may be raised or lowered between chunks. */
  constructor(public maxFrameSize = DEFAULT_MAX_FRAME) {}

  /** Bytes held that do not yet form a whole frame. */
  get pending(): number {
    return this.buffered + (this.need >= 0 ? 4 : 0);
  }

  /** Adds a chunk; returns the frames it completes. @throws ProtocolError on an oversized frame. */
  push(chunk: Uint8Array): Buffer[] {
    this.append(chunk);
    const frames: Buffer[] = [];
    for (let f = this.next(); f !== undefined; f = this.next()) frames.push(f);
    return frames;
  }

  /** Adds a chunk without decoding it yet. */
  append(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.buffered += chunk.byteLength;
  }

  /** The next complete frame, or undefined. @throws ProtocolError on an oversized frame. */
  next(): Buffer | undefined {
    if (this.need < 0) {
      if (this.buffered < 4) return undefined;
      const first = this.chunks[0]!;
      let length: number;
      if (first.length - this.offset >= 4) {
        // the common case: the header within one chunk, read in place
        length = first.readUInt32BE(this.offset);
        this.advance(first, 4);
      } else length = this.take(4).readUInt32BE(0);
      if (length > this.maxFrameSize) {
        throw new ProtocolError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameSize} bytes`);
      }
      this.need = length;
    }
    if (this.buffered < this.need) return undefined;
    const frame = this.take(this.need);
    this.need = -1;
    return frame;
  }

  /** Consumes `n` bytes of `first` (= chunks[0], holding at least `n` unread bytes). */
  private advance(first: Buffer, n: number): void {
    this.offset += n;
    this.buffered -= n;
    if (this.offset === first.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.advance(first, n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.offset, n - filled);
      c.copy(out, filled, this.offset, this.offset + k);
      filled += k;
      this.advance(c, k);
    }
    return out;
  }
}

/** Prefixes `payload` with its 4-byte big-endian length. */
export function frameHeader(length: number): Buffer {
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32BE(length, 0);
  return h;
}

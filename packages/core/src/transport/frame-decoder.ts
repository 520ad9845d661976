/**
 * Splits a byte stream into frames, one message each, in the framing of Python's
 * `multiprocessing.connection`: a 4-byte big-endian length, then that many bytes; a message of
 * 2 GiB or more has the length `0xFFFFFFFF` followed by an 8-byte big-endian length. A frame
 * longer than `maxFrameSize` is a protocol error: the connection must be closed, since the stream
 * can no longer be trusted.
 *
 * A large frame is read into one buffer of its announced size as its bytes arrive (not gathered
 * as chunks and copied at the end), so receiving a message holds it once. The buffer is allocated
 * without zeroing, so its pages are only committed as the peer's bytes fill them: a peer that
 * announces a large frame and sends little of it costs little.
 */
import { constants } from "node:buffer";
import { ProtocolError } from "../errors/errors.js";

/**
 * Default largest frame accepted: 4 GiB - 1, the largest item a pipe's ring carries (its length
 * field is 32 bits), or less where a Buffer cannot be that large. (Node 24's Buffers may be far
 * larger: a peer must not make the receiver try to allocate them.)
 */
export const DEFAULT_MAX_FRAME = Math.min(constants.MAX_LENGTH, 2 ** 32 - 1);

/** The 4-byte length announcing an 8-byte length (a frame of 2 GiB or more). */
const LONG = 0xffffffff;
/** Largest length the 4-byte form carries (Python reads it as a signed int). */
const SHORT_MAX = 0x7fffffff;
/** Frames from this size on are read into their own buffer as they arrive. */
const STREAM_FROM = 1024 * 1024;

/** Incremental frame reader. Feed it chunks; it returns the complete frames. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  /** Bytes of `chunks[0]` already consumed (no re-slicing per frame). */
  private offset = 0;
  private buffered = 0;
  /** Length of the frame being read, -1 while its header is still to come. */
  private need = -1;
  /** Bytes of the current frame's header (4 or 12), counted in `pending`. */
  private headerBytes = 0;
  /** A large frame being filled in place, and how much of it is filled. */
  private target: Buffer | undefined;
  private filled = 0;

  /** Largest frame accepted; may be raised or lowered between chunks. */
  constructor(public maxFrameSize = DEFAULT_MAX_FRAME) {}

  /** Bytes received that do not yet form a whole frame. */
  get pending(): number {
    return this.buffered + this.headerBytes + this.filled;
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
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.target) {
      // a large frame: its bytes go straight to their place
      const k = Math.min(buf.length, this.target.length - this.filled);
      buf.copy(this.target, this.filled, 0, k);
      this.filled += k;
      if (k === buf.length) return;
      buf = buf.subarray(k);
    }
    this.chunks.push(buf);
    this.buffered += buf.length;
  }

  /** The next complete frame, or undefined. @throws ProtocolError on an oversized frame. */
  next(): Buffer | undefined {
    if (this.need < 0 && !this.readHeader()) return undefined;
    if (this.target) {
      if (this.filled < this.need) return undefined;
      const frame = this.target;
      this.reset();
      return frame;
    }
    if (this.buffered < this.need) {
      if (this.need >= STREAM_FROM) {
        // from here on its bytes are copied once, as they arrive
        try {
          this.target = Buffer.allocUnsafeSlow(this.need);
        } catch (error) {
          throw new ProtocolError(`cannot hold a frame of ${this.need} bytes`, { cause: error });
        }
        this.filled = this.buffered;
        if (this.buffered > 0) this.take(this.buffered).copy(this.target, 0);
      }
      return undefined;
    }
    const frame = this.take(this.need);
    this.reset();
    return frame;
  }

  private reset(): void {
    this.need = -1;
    this.headerBytes = 0;
    this.target = undefined;
    this.filled = 0;
  }

  /** Reads the next frame's header once all of it is here. */
  private readHeader(): boolean {
    if (this.buffered < 4) return false;
    let length = this.peekU32(0);
    let size = 4;
    if (length === LONG) {
      // senders use the long form only from 2 GiB on: under a lower limit it is refused at once
      if (this.maxFrameSize <= SHORT_MAX) throw new ProtocolError(`a long frame header where frames of at most ${this.maxFrameSize} bytes are accepted`);
      if (this.buffered < 12) return false;
      length = this.peekU32(4) * 2 ** 32 + this.peekU32(8);
      size = 12;
    } else if (length > SHORT_MAX) throw new ProtocolError(`a malformed frame header (length word 0x${length.toString(16)})`);
    if (length > this.maxFrameSize) throw new ProtocolError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameSize} bytes`);
    this.skip(size);
    this.headerBytes = size;
    this.need = length;
    return true;
  }

  /** The big-endian u32 at byte `at` of the buffered bytes (at + 4 <= buffered). */
  private peekU32(at: number): number {
    const first = this.chunks[0];
    if (first.length - this.offset >= at + 4) return first.readUInt32BE(this.offset + at);
    let v = 0;
    let chunk = 0;
    let pos = this.offset + at;
    while (pos >= this.chunks[chunk].length) pos -= this.chunks[chunk++].length;
    for (let i = 0; i < 4; i++) {
      while (pos >= this.chunks[chunk].length) {
        pos = 0;
        chunk++;
      }
      v = v * 256 + this.chunks[chunk][pos++];
    }
    return v;
  }

  /** Consumes `n` buffered bytes. */
  private skip(n: number): void {
    while (n > 0) {
      const first = this.chunks[0];
      const k = Math.min(first.length - this.offset, n);
      this.advance(first, k);
      n -= k;
    }
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
    const first = this.chunks[0];
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.advance(first, n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length - this.offset, n - filled);
      c.copy(out, filled, this.offset, this.offset + k);
      filled += k;
      this.advance(c, k);
    }
    return out;
  }
}

/** The header of a frame of `length` bytes: 4 bytes, or 12 from 2 GiB on (as Python writes it). */
export function frameHeader(length: number): Buffer {
  if (length <= SHORT_MAX) {
    const h = Buffer.allocUnsafe(4);
    h.writeUInt32BE(length, 0);
    return h;
  }
  const h = Buffer.allocUnsafe(12);
  h.writeUInt32BE(LONG, 0);
  h.writeUInt32BE(Math.floor(length / 2 ** 32), 4);
  h.writeUInt32BE(length % 2 ** 32, 8);
  return h;
}

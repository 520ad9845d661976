/**
 * A duplex connection of whole frames over a byte stream (Unix socket, named pipe, TCP). Small
 * frames sent in one tick are copied, with their headers, into one buffer written once at the end
 * of the tick (one stream write and one syscall for a burst of a thousand calls, where a write per
 * header and per payload cost a stream write each); a large frame is written as it is, after what
 * was queued before it. A reader that is behind decodes many frames from one read. Any protocol
 * error closes the connection with that error.
 */
import type { Socket } from "node:net";
import { AuthenticationError, ClosedError, EOFError, ProtocolError, TimeoutError } from "../errors/errors.js";
import { isChallenge } from "./auth.js";
import { DEFAULT_MAX_FRAME, FrameDecoder, frameHeader } from "./frame-decoder.js";

/** Options of a {@link FramedSocket}. */
export interface FramedSocketOptions {
  /**
   * Largest message (frame) accepted once authenticated; default 4 GiB - 1 (what a pipe's ring
   * carries). A larger one is a protocol error that closes the connection.
   */
  maxMessageSize?: number;
  /**
   * Bytes of received frames held while nobody takes them (no handler yet: a connection not
   * accepted), beyond which the socket is paused until a handler is set; default 256 KiB. The
   * peer's writes then back up into its own socket buffer: memory here stays bounded.
   */
  maxBuffered?: number;
  /**
   * The peer has no authkey to prove, and a first frame that is an authkey challenge means the
   * other side wants one: the connection fails with AuthenticationError instead of delivering
   * the challenge as data (a client without an authkey meeting a listener with one).
   */
  refuseChallenge?: boolean;
}

/** Frames before authentication are tiny; anything larger is garbage. */
const HANDSHAKE_MAX_FRAME = 1024;
/** Undecoded bytes a peer may send before authentication (its handshake frames and a first message). */
const HANDSHAKE_MAX_BYTES = 64 * 1024;
/** Default {@link FramedSocketOptions.maxBuffered}. */
const DEFAULT_MAX_BUFFERED = 256 * 1024;
/** Frames up to this size are copied into the tick's one write; larger ones are written as they are. */
const COPY_MAX = 16 * 1024;

/** Whole frames over a socket. */
export class FramedSocket {
  private decoder = new FrameDecoder(HANDSHAKE_MAX_FRAME);
  private queue: Buffer[] = [];
  /** Bytes of the frames in `queue`. */
  private queuedBytes = 0;
  /** The socket is paused because nobody takes its frames. */
  private held = false;
  /** The first frame after authentication is still to come (see `refuseChallenge`). */
  private firstFrame = true;
  private readers: { resolve: (b: Buffer) => void; reject: (e: unknown) => void }[] = [];
  private handler: ((frame: Buffer) => void) | undefined;
  /** Small frames of this tick, written together at its end (see the header). */
  private outbox: Uint8Array[] = [];
  /** Bytes the outbox's frames take with their 4-byte headers. */
  private outboxBytes = 0;
  private flushScheduled = false;
  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    this.flush();
  };
  private closeError: Error | undefined;
  private closeListeners: ((error: Error | undefined) => void)[] = [];
  /** True once closed, by either side. */
  closed = false;
  private authed = false;
  /** Closed because of a protocol or handler error: decode nothing more. */
  private failed = false;

  constructor(
    readonly socket: Socket,
    private readonly options: FramedSocketOptions = {},
  ) {
    socket.setNoDelay?.(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.destroy(e));
    socket.on("close", () => this.destroy(this.truncation()));
    socket.on("end", () => this.destroy(this.truncation()));
  }

  /**
   * Lifts the handshake frame limit to the configured one (after authentication), and decodes
   * what the peer sent after its side of the handshake (held undecoded until now).
   */
  authenticated(): void {
    this.authed = true;
    this.decoder.maxFrameSize = this.options.maxMessageSize ?? DEFAULT_MAX_FRAME;
    this.decodeAvailable();
  }

  /** Delivers every later frame to `handler` (including those already queued). */
  setHandler(handler: (frame: Buffer) => void): void {
    this.handler = handler;
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.held) {
      this.held = false;
      this.socket.resume();
    }
    // frames received before the peer closed are delivered even if it has closed since
    for (const f of queued) {
      try {
        // the current handler: a handler may hand the connection on by setting another one
        this.handler(f);
      } catch (e) {
        this.destroy(e instanceof Error ? e : new ProtocolError(String(e)));
        return;
      }
    }
  }

  /** Calls `listener` once when the connection closes, with the error that closed it, if any. */
  onClose(listener: (error: Error | undefined) => void): void {
    if (this.closed) queueMicrotask(() => listener(this.closeError));
    else this.closeListeners.push(listener);
  }

  /** Reads the next frame (handshake use); rejects on close or timeout. */
  readFrame(timeout = 10_000): Promise<Buffer> {
    const queued = this.queue.shift();
    if (queued) {
      this.queuedBytes -= queued.byteLength;
      return Promise.resolve(queued);
    }
    if (!this.authed) {
      try {
        const f = this.decoder.next();
        if (f) return Promise.resolve(f);
      } catch (e) {
        this.destroy(e as Error);
        return Promise.reject(e);
      }
    }
    if (this.closed) return Promise.reject(this.closeError ?? new EOFError("connection closed"));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readers = this.readers.filter((r) => r !== reader);
        reject(new TimeoutError(`no frame within ${timeout} ms`));
        this.destroy(new TimeoutError("handshake timed out"));
      }, timeout);
      const reader = {
        resolve: (b: Buffer) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.readers.push(reader);
    });
  }

  /** Sends one frame. Frames sent in the same tick go out in one write. */
  send(payload: Uint8Array): void {
    if (this.closed) throw new ClosedError("connection is closed");
    const n = payload.byteLength;
    if (n > COPY_MAX) {
      // after what this tick queued, in one writev
      this.flush();
      this.socket.cork();
      this.socket.write(frameHeader(n));
      this.socket.write(payload);
      this.socket.uncork();
      return;
    }
    this.outbox.push(payload);
    this.outboxBytes += 4 + n;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushNow);
    }
  }

  /**
   * Writes bytes that are already framed (a relay's batch) in order with the frames sent before
   * them; `done` as `socket.write`'s callback.
   */
  writeRaw(chunk: Uint8Array, done?: (error?: Error | null) => void): void {
    this.flush();
    this.socket.write(chunk, done);
  }

  /** Writes what the current tick has queued now, instead of at the end of the tick. */
  flush(): void {
    const frames = this.outbox;
    if (frames.length === 0) return;
    const out = Buffer.allocUnsafe(this.outboxBytes);
    let at = 0;
    for (const f of frames) {
      out.writeUInt32BE(f.byteLength, at);
      out.set(f, at + 4);
      at += 4 + f.byteLength;
    }
    this.outbox = [];
    this.outboxBytes = 0;
    this.socket.write(out);
  }

  /** Resolves once everything sent so far has been handed to the operating system. */
  flushed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    return new Promise((resolve) => this.socket.write(Buffer.alloc(0), () => resolve()));
  }

  /** A peer that closes in the middle of a frame broke the protocol (no error otherwise). */
  private truncation(): Error | undefined {
    const pending = this.decoder.pending;
    if (pending === 0 || this.failed) return undefined;
    return new ProtocolError(`the connection closed in the middle of a frame (${pending} bytes of it arrived)`);
  }

  /** Closes the connection (idempotent). */
  close(): void {
    this.destroy(undefined);
  }

  /** Closes the connection because of `error`. */
  destroy(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    this.failed = error !== undefined;
    // flush what was written (a #FAILURE# verdict, a last reply), then close
    if (this.socket.writable && !this.socket.destroyed) this.flush();
    if (this.socket.writable && !this.socket.destroyed) {
      this.socket.end(() => this.socket.destroy());
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else this.socket.destroy();
    const readers = this.readers;
    this.readers = [];
    for (const r of readers) r.reject(error ?? new EOFError("connection closed"));
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const l of listeners) l(error);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.decoder.append(chunk);
    if (!this.authed && this.decoder.pending > HANDSHAKE_MAX_BYTES) {
      this.destroy(new ProtocolError(`more than ${HANDSHAKE_MAX_BYTES} bytes before authentication`));
      return;
    }
    this.decodeAvailable();
    // nobody takes frames yet (a connection not accepted): read no further past the bound
    if (!this.handler && !this.held && !this.closed && this.queuedBytes + this.decoder.pending > (this.options.maxBuffered ?? DEFAULT_MAX_BUFFERED)) {
      this.held = true;
      this.socket.pause();
    }
  }

  /**
   * Decodes buffered bytes. Before authentication only as many frames as handshake reads wait
   * for: later bytes stay undecoded until `authenticated()` lifts the handshake size limit (a
   * peer may send its first message right behind its last handshake frame).
   */
  private decodeAvailable(): void {
    for (;;) {
      if (this.failed) return;
      if (!this.authed && this.readers.length === 0) return;
      let f: Buffer | undefined;
      try {
        f = this.decoder.next();
      } catch (e) {
        this.destroy(e instanceof Error ? e : new ProtocolError(String(e)));
        return;
      }
      if (f === undefined) return;
      if (this.authed && this.firstFrame) {
        this.firstFrame = false;
        if (this.options.refuseChallenge && isChallenge(f)) {
          this.destroy(new AuthenticationError("the listener requires an authkey and none was given"));
          return;
        }
      }
      if (this.handler) {
        try {
          this.handler(f);
        } catch (e) {
          this.destroy(e instanceof Error ? e : new ProtocolError(String(e)));
          return;
        }
      } else {
        const r = this.readers.shift();
        if (r) r.resolve(f);
        else {
          this.queue.push(f);
          this.queuedBytes += f.byteLength;
        }
      }
    }
  }
}

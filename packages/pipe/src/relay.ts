/**
 * A relay: joins one end of a pipe in this process's memory to a socket, in the process's broker
 * thread (so it keeps moving while the owner's thread blocks in a `*Sync` call). It holds a copy of
 * end `end` like any user of it would:
 *
 * - out: messages end `end` would receive (its read ring) go to the socket as frames, many per
 *   write; the socket's buffer bounds how far it runs ahead;
 * - in: frames from the socket are put into end `end`'s write ring in order; past a backlog of
 *   frames the socket is paused, so a slow reader slows the sender down;
 * - the socket closing (the far process closed its end, exited or died) releases the copy once
 *   the frames already received are in the ring: the local reader drains them, then reads EOF;
 *   a protocol error on the socket (garbage, an oversized frame) is recorded in the pipe and is
 *   what the local reader gets instead of EOF;
 * - the other local end closing for good ends the relay, after the messages it still had to send
 *   went out, and closes the socket, which the far side reads as EOF;
 * - far and peer relays publish how far the OS took what they sent (the pipe's `SENT` word), so
 *   the sender's `drain()` resolves only once its messages left the process.
 *
 * Modes. `peer` (Listener/Client connections): both sides send eagerly, frames are messages.
 * `home` / `far` (an end handed to another process): the pipe lives at home, and the far process
 * takes messages from it only when its reader asks for them, so a process that merely polls or
 * exits without reading takes little with it (Python's CONN-08). The far relay grants credit when
 * its local reader finds nothing to read (the `DEMAND` word), doubling the grant each time up to
 * {@link MAX_CREDIT} so that a steady reader pays one round trip per window, not per message; the
 * home relay sends only against credit. Far → home frames start with a type byte (0 message,
 * 1 credit: u32 count); home → far frames are messages.
 */
import { EmptyError, FullError, ProtocolError, ShutDownError } from "@ipc/core";
import { Deadline, frameHeader, NOT_NOW, type FramedSocket } from "@ipc/core/internal";
import { Channel } from "./channel.js";

const ZERO = new Deadline(0);
const EMPTY = new Uint8Array(0);

/** Bytes of frames the relay gathers before one socket write. */
const BATCH_BYTES = 64 * 1024;
/** Socket buffer above which the relay waits for it to drain. */
const HIGH_WATER = 1024 * 1024;
/** Received frames above which the socket is paused. */
const PAUSE_FRAMES = 1024;
/** Received bytes not yet in the ring above which the socket is paused. */
const PAUSE_BYTES = 4 * 1024 * 1024;
/** How often the relay checks that the other local end has holders that are alive (ms). */
const LIVENESS_PROBE_MS = 1000;

/** Largest credit a far relay grants at once. */
const MAX_CREDIT = 4096;
const MESSAGE = 0;
const CREDIT = 1;

/** How the two relays of a socket talk (see the module comment). */
export type RelayMode = "peer" | "home" | "far";

const active = new Set<Relay>();
/** Relays still connecting (counted so that an exiting process waits for them too). */
let connecting = 0;

/** Counts a relay that is connecting until `ready` settles. */
export function connectingRelay<T>(ready: Promise<T>): Promise<T> {
  connecting++;
  return ready.finally(() => connecting--);
}

class Relay {
  /** Frames received and not yet in the ring, from `inHead` on (no O(n) shifts). */
  private incoming: Uint8Array[] = [];
  private inHead = 0;
  /** Bytes of the frames in `incoming` from `inHead` on. */
  private incomingBytes = 0;
  private pumping: Promise<void> | undefined;
  private paused = false;
  private finished = false;
  private readonly stop = new AbortController();
  /** True while a message taken from the ring is not yet handed to the socket. */
  private sending = false;

  /** home: messages the far side may still take. */
  private credit = 0;
  private creditArrived: (() => void) | undefined;
  /** far: credit granted minus messages received, and the next grant. */
  private outstanding = 0;
  private grant = 1;

  constructor(
    private readonly channel: Channel,
    private readonly end: number,
    private readonly conn: FramedSocket,
    private readonly mode: RelayMode,
  ) {}

  start(): void {
    active.add(this);
    this.conn.setHandler((frame) => this.onFrame(frame));
    this.conn.onClose((error) => void this.onSocketClosed(error));
    if (this.channel.readRing(this.end)) void this.outLoop();
    if (this.mode === "far" && this.channel.writeRing(this.end)) void this.demandLoop();
    void this.watch();
  }

  /** far: grants credit whenever the local reader finds nothing and none is outstanding. */
  private async demandLoop(): Promise<void> {
    const i32 = this.channel.i32;
    const ring = this.channel.writeRing(this.end)!;
    // from 0: a reader that asked before the relay started is served at once
    let seen = 0;
    while (!this.finished) {
      await ring.backend.waitAsync(i32, Channel.DEMAND, seen, Infinity, this.stop.signal).catch(() => undefined);
      seen = Atomics.load(i32, Channel.DEMAND);
      if (this.finished || this.conn.closed) return;
      if (this.outstanding > 0 || this.incoming.length > this.inHead || ring.count() > 0) continue;
      const n = this.grant;
      this.grant = Math.min(this.grant * 2, MAX_CREDIT);
      this.outstanding += n;
      const frame = Buffer.allocUnsafe(5);
      frame[0] = CREDIT;
      frame.writeUInt32LE(n, 1);
      this.conn.send(frame);
    }
  }

  /** home: waits until the far side may take a message. */
  private async creditToSend(): Promise<void> {
    while (this.credit === 0 && !this.finished && !this.conn.closed) await new Promise<void>((r) => (this.creditArrived = r));
  }

  /** True when nothing taken for the socket is still in this process. */
  idle(): boolean {
    const ring = this.channel.readRing(this.end);
    if (this.finished) return !active.has(this);
    return (!this.sending && (ring === undefined || ring.count() === 0) && this.conn.socket.writableLength === 0);
  }

  /** Frames taken from the ring, written to the socket in one call per batch. */
  private batch = Buffer.allocUnsafe(BATCH_BYTES);
  private used = 0;

  /** Appends one message as a frame (with the type byte in far mode) to the batch. */
  private readonly append = (bytes: Uint8Array): void => {
    const extra = this.mode === "far" ? 1 : 0;
    const need = 4 + extra + bytes.byteLength;
    if (need > this.batch.byteLength - this.used) {
      this.writeBatch();
      if (need > this.batch.byteLength) {
        // a large message: a frame of its own (a 12-byte header from 2 GiB on), its bytes copied
        // since `bytes` may be a view of memory the ring reuses
        const header = frameHeader(extra + bytes.byteLength);
        this.conn.writeRaw(extra ? Buffer.concat([header, Buffer.of(MESSAGE)]) : header);
        this.conn.writeRaw(Buffer.from(bytes));
        return;
      }
    }
    this.batch.writeUInt32BE(extra + bytes.byteLength, this.used);
    if (extra) this.batch[this.used + 4] = MESSAGE;
    this.batch.set(bytes, this.used + 4 + extra);
    this.used += need;
  };

  /**
   * Publishes, once the OS took every byte written so far, that the messages up to read position
   * `position` went out (the sender's `drain()` waits for it: see Channel#sentOut).
   */
  private markSent(position: number): void {
    const socket = this.conn.socket;
    if (socket.writableLength === 0) this.channel.markSent(this.end, position);
    else this.conn.writeRaw(EMPTY, (error) => error || this.channel.markSent(this.end, position));
  }

  private writeBatch(): void {
    if (this.used === 0) return;
    this.conn.writeRaw(this.batch.subarray(0, this.used));
    this.batch = Buffer.allocUnsafe(BATCH_BYTES);
    this.used = 0;
  }

  /**
   * Sends what end `end` would receive: waits (async) for one message, then takes what else is
   * there without waiting, up to a batch, and writes the batch in one call.
   */
  private async outLoop(): Promise<void> {
    const ring = this.channel.readRing(this.end)!;
    const socket = this.conn.socket;
    const home = this.mode === "home";
    for (;;) {
      if (home) {
        await this.creditToSend();
        if (this.finished || this.conn.closed) return;
      }
      let shut = false;
      try {
        await ring.getAsync(this.append, { signal: this.stop.signal });
        this.sending = true;
        if (home) this.credit--;
        while (this.used < BATCH_BYTES / 2 && (!home || this.credit > 0) && ring.count() > 0) {
          if (ring.tryGetFrame(this.append) === NOT_NOW) ring.getSync(this.append, { deadline: ZERO });
          if (home) this.credit--;
        }
      } catch (e) {
        // shut: the other local end is closed for good and everything it sent was taken
        if (e instanceof ShutDownError) shut = true;
        else if (!(e instanceof EmptyError)) {
          this.sending = false;
          return;
        }
      }
      if (this.conn.closed) return;
      this.writeBatch();
      this.sending = false;
      if (!home) this.markSent(ring.readPosition());
      if (shut) {
        await this.finish();
        return;
      }
      if (socket.writableLength > HIGH_WATER) {
        await new Promise<void>((resolve) => {
          const done = () => {
            socket.off("drain", done);
            socket.off("close", done);
            resolve();
          };
          socket.on("drain", done);
          socket.on("close", done);
        });
      }
    }
  }

  private onFrame(frame: Uint8Array): void {
    if (this.finished) return;
    if (this.mode === "home") {
      if (frame.byteLength === 0) throw new ProtocolError("an empty frame from a far relay");
      if (frame[0] === CREDIT) {
        if (frame.byteLength !== 5) throw new ProtocolError("a malformed credit frame");
        this.credit += Buffer.from(frame.buffer, frame.byteOffset, 5).readUInt32LE(1);
        this.creditArrived?.();
        this.creditArrived = undefined;
        return;
      }
      if (frame[0] !== MESSAGE) throw new ProtocolError(`an unknown frame type ${frame[0]} from a far relay`);
      // a plain view: cheaper than Buffer#subarray
      frame = new Uint8Array(frame.buffer, frame.byteOffset + 1, frame.byteLength - 1);
    } else if (this.mode === "far") this.outstanding--;
    this.incoming.push(frame);
    this.incomingBytes += frame.byteLength;
    if (!this.paused && (this.incoming.length - this.inHead > PAUSE_FRAMES || this.incomingBytes > PAUSE_BYTES)) {
      this.paused = true;
      this.conn.socket.pause();
    }
    this.kick();
  }

  /** Starts the in-loop unless it runs (its end is observed asynchronously, after `pumping` is set). */
  private kick(): void {
    if (this.pumping) return;
    this.pumping = this.inLoop().finally(() => {
      this.pumping = undefined;
      if (this.incoming.length > this.inHead && !this.finished) this.kick();
    });
  }

  private async inLoop(): Promise<void> {
    const ring = this.channel.writeRing(this.end);
    try {
      if (!ring) throw new ProtocolError("the far end sent on a one-way pipe it may only read");
      while (this.inHead < this.incoming.length) {
        const bytes = this.incoming[this.inHead];
        let put = false;
        if (bytes.byteLength + 8 <= ring.maxChunk) {
          try {
            // one wake-up for the batch: see wakeConsumers below
            if (!ring.tryPutFrame(bytes, false, true)) ring.putSync(bytes, { deadline: ZERO, deferWake: true });
            put = true;
          } catch (e) {
            if (!(e instanceof FullError)) throw e;
          }
        }
        if (!put) {
          ring.wakeConsumers();
          await ring.putAsync(bytes);
        }
        this.incoming[this.inHead++] = EMPTY;
        this.incomingBytes -= bytes.byteLength;
        if (this.inHead === this.incoming.length) {
          this.incoming = [];
          this.inHead = 0;
          ring.wakeConsumers();
        }
        if (this.paused && this.incoming.length - this.inHead < PAUSE_FRAMES / 4 && this.incomingBytes < PAUSE_BYTES / 4) {
          this.paused = false;
          this.conn.socket.resume();
        }
      }
    } catch (e) {
      // the local reader is gone (or the far side broke the protocol): drop the rest
      this.incoming = [];
      this.inHead = 0;
      this.incomingBytes = 0;
      if (!(e instanceof ShutDownError)) this.channel.setError(e as Error);
      await this.finish();
    }
  }

  private async onSocketClosed(error: Error | undefined): Promise<void> {
    // a protocol error is reported to the local reader; a peer that went away is plain EOF
    if (error instanceof ProtocolError || error?.name === "ProtocolError" || error?.name === "AuthenticationError") this.channel.setError(error);
    this.stop.abort();
    this.creditArrived?.();
    while (this.pumping) await this.pumping;
    await this.finish();
  }

  /** Ends when the other local end is closed for good and nothing is left to send. */
  private async watch(): Promise<void> {
    const other = 1 - this.end;
    const i32 = this.channel.i32;
    while (!this.finished) {
      const seq = this.channel.changes;
      if (!this.channel.alive(other)) {
        // with an out ring, its loop ends the relay once the last messages went out (unless it
        // waits for credit with nothing left to send)
        const ring = this.channel.readRing(this.end);
        if (!ring || (this.mode === "home" && ring.count() === 0)) await this.finish();
        return;
      }
      await this.channel.rings[0].backend.waitAsync(i32, Channel.CHANGES, seq, LIVENESS_PROBE_MS);
    }
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.stop.abort();
    this.creditArrived?.();
    try {
      if (!this.conn.closed) {
        // everything taken from the ring reaches the OS before the socket closes
        await this.conn.flushed();
        this.conn.close();
      }
    } finally {
      active.delete(this);
      this.channel.release(this.end);
    }
  }
}

/** Starts relaying between `channel`'s end `end` (a copy of which the caller counted for the relay) and `conn`. */
export function startRelay(channel: Channel, end: number, conn: FramedSocket, mode: RelayMode): void {
  new Relay(channel, end, conn, mode).start();
}

/** Resolves once every relay of this process has handed what it took to the OS, or after `ms`. */
export async function settleRelays(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    let idle = connecting === 0;
    for (const r of active) if (!r.idle()) idle = false;
    if (idle) return;
    await new Promise((r) => setTimeout(r, 1));
  }
}

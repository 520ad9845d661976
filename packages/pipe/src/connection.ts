/**
 * Connection: one end of a pipe (Python's `multiprocessing.connection.Connection`). Every
 * Connection reads and writes the rings of a pipe in memory it maps (channel.ts). A pipe made
 * where `@ipc/native` is loaded lives in memory other processes map, so an end handed to another
 * process is used there directly; otherwise (and for `Listener`/`Client` connections) an end in
 * another process is revived as a fresh local pipe whose far end is relayed over an authenticated
 * socket to the home of the original (relay.ts). Every operation, `*Sync` ones included, works
 * the same in every context.
 */
import { BrokenPipeError, BufferTooShortError, ClosedError, deserialize, EmptyError, EOFError, InvalidStateError, IpcError, MessageTooLargeError, registerHandleType, ShutDownError, TimeoutError, toHandle, type HandleContext, type HandleDescriptor } from "@ipc/core";
import { AdaptiveSpin, allocLarge, checkSignal, checkTimeout, Deadline, type Decode, errorClasses, NOT_NOW, recycleSerialized, registerSleeper, serializeOr, unregisterSleeper, untilEnd, type Ring, type RingWaiter } from "@ipc/core/internal";
import { Channel, PROBE_MS, probeSlice } from "./channel.js";
import { connectionState } from "./connection-state.js";
import { connectionReviver } from "./revive-connection.js";
import { trackHold, untrackHold, type Hold } from "./holds.js";
import { bytesOf, Outbox, type OutboxOwner } from "./outbox.js";

/** Options of a blocking async connection operation. */
export interface RecvOptions {
  /** Milliseconds; omitted waits forever. @throws TimeoutError when it passes. */
  timeout?: number;
  /** Cancels the wait; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of a blocking sync connection operation. */
export interface RecvSyncOptions {
  /** Milliseconds; omitted waits forever. @throws TimeoutError when it passes. */
  timeout?: number;
}

const ZERO = new Deadline(0);
/** Messages are owned by their receiver (ignored for bytes still in the ring: see `deserialize`). */
const OWNED = Object.freeze({ owned: true });
const OWNED_PEER = Object.freeze({ owned: true, peer: true });
const decodeMessage = <R>(bytes: Uint8Array): R => deserialize<R>(bytes, OWNED);
/** A message from a network peer: data only, no handle revived (core's trust model). */
const decodePeerMessage = <R>(bytes: Uint8Array): R => deserialize<R>(bytes, OWNED_PEER);
/** The message as its own buffer (copied out when it is still in the ring). */
function ownBytes(bytes: Uint8Array): Uint8Array {
  if (!(bytes.buffer instanceof SharedArrayBuffer)) return bytes;
  const out = allocLarge(bytes.byteLength);
  out.set(bytes);
  return out;
}

const isEOF = (e: unknown): boolean => e instanceof EOFError;

/** The internal constructor token. */
const INTERNAL = Symbol("@ipc/pipe:internal");

/**
 * One end of a pipe: send and receive messages (any value the codec takes) or raw bytes.
 *
 * @example
 * const [a, b] = Pipe<string, string>();
 * a.send("ping");
 * await b.recv(); // "ping"
 */
export class Connection<S = unknown, R = unknown> {
  /** Handle type name. */
  static readonly handleType: string = "@ipc/pipe:Connection";

  readonly #channel: Channel;
  readonly #end: number;
  readonly #hold: Hold;
  /** How messages are decoded: as untrusted data when they come from a network peer. */
  readonly #decode: typeof decodeMessage;
  /** The pipe's `maxMessageSize` (0: none), fixed before any holder saw it. */
  readonly #maxMessage: number;
  #closed = false;
  #released = false;
  /** The short busy-wait of this end's receives (core's adaptive-spin.ts). */
  readonly #spin = new AdaptiveSpin();
  /** The send side, when this end may send. */
  readonly #outbox: Outbox | undefined;

  /** @internal */
  constructor(token: typeof INTERNAL, channel: Channel, end: number) {
    if (token !== INTERNAL) throw new TypeError("Connection is created by Pipe(), Client() or Listener.accept()");
    this.#channel = channel;
    this.#end = end;
    this.#hold = trackHold(this, channel, end);
    this.#decode = channel.peer ? decodePeerMessage : decodeMessage;
    this.#maxMessage = channel.maxMessage;
    const ring = channel.writeRing(end);
    this.#outbox = ring && new Outbox(ring, this.#outboxOwner, channel.handsOver);
  }

  /** Puts encoded bytes straight into the ring when nothing waits before them (one function per end, not per send). */
  readonly #putNow = (bytes: Uint8Array): boolean => {
    const outbox = this.#outbox!;
    return this.#allowed(bytes) && !outbox.pumping && outbox.ring.tryPutFrame(bytes, false);
  };

  /** Takes a message the encoder lends for `send`: into the ring, or into the backlog (Outbox.offer). */
  readonly #sendNow = (bytes: Uint8Array): boolean => this.#allowed(bytes) && this.#outbox!.offer(bytes);

  /** How the outbox reports to this end. */
  readonly #outboxOwner: OutboxOwner = {
    sendError: (e) => this.#sendError(e),
    peerGone: () => void this.#peerGone(),
    drained: () => {
      if (this.#closed) this.#release();
    },
  };

  /** @internal a connection over `channel`'s end `end`, taking over the in-flight copy of owner `from`. */
  static adopt<S, R>(channel: Channel, end: number, from: number): Connection<S, R> {
    channel.takeOver(end, from);
    return new Connection<S, R>(INTERNAL, channel, end);
  }

  /** @internal a connection over a new channel's end whose holder is already counted. */
  static over<S, R>(channel: Channel, end: number): Connection<S, R> {
    return new Connection<S, R>(INTERNAL, channel, end);
  }

  /** True after this end's `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The largest message this end may send, in bytes (`maxMessageSize`); `Infinity` when unlimited. */
  get maxMessageSize(): number {
    return this.#maxMessage === 0 ? Infinity : this.#maxMessage;
  }

  /** True when this end may receive (false for the writer of a one-way pipe). */
  get readable(): boolean {
    return this.#channel.readRing(this.#end) !== undefined;
  }

  /** True when this end may send (false for the reader of a one-way pipe). */
  get writable(): boolean {
    return this.#channel.writeRing(this.#end) !== undefined;
  }

  #open(): void {
    if (this.#closed) throw new ClosedError("the connection is closed");
  }

  #sender(): Outbox {
    this.#open();
    const outbox = this.#outbox;
    if (!outbox) throw new InvalidStateError("this end of a one-way pipe only receives");
    if (outbox.error) throw outbox.error;
    return outbox;
  }

  #readRing(): Ring {
    this.#open();
    const ring = this.#channel.readRing(this.#end);
    if (!ring) throw new InvalidStateError("this end of a one-way pipe only sends");
    return ring;
  }

  /**
   * `bytes`, when the pipe's `maxMessageSize` allows them. @throws MessageTooLargeError before
   * anything is sent.
   */
  #allowed<B extends Uint8Array>(bytes: B): B {
    const max = this.#maxMessage;
    if (max !== 0 && bytes.byteLength > max) {
      throw new MessageTooLargeError(`a message of ${bytes.byteLength} bytes exceeds this connection's maxMessageSize of ${max} bytes`);
    }
    return bytes;
  }

  /** The error a send gets from a shut ring. */
  #sendError(e: unknown): unknown {
    if (e instanceof ShutDownError) {
      if (this.#closed) return new ClosedError("the connection is closed");
      return this.#failure() ?? new BrokenPipeError("the other end of the pipe is closed");
    }
    return e;
  }

  /** The failure a relay recorded for this pipe (a protocol error on its socket), if any. */
  #failure(): Error | undefined {
    const f = this.#channel.error();
    if (!f) return undefined;
    const Cls = errorClasses.get(f.name) ?? IpcError;
    return new Cls(f.message);
  }

  #eof(): Error {
    return this.#failure() ?? new EOFError("the other end of the pipe is closed and nothing is left");
  }

  /** What a receive gets from a shut read ring: our own close, or the other end's. */
  #shutError(): Error {
    return this.#closed ? new ClosedError("the connection is closed") : this.#eof();
  }

  /** The other end: closes it for good when every holder has gone (a terminated thread). */
  #peerGone(): boolean {
    return !this.#channel.alive(1 - this.#end);
  }

  /**
   * Sends `obj` (any value the codec takes; handles of shared objects included). Never blocks:
   * when the pipe has no room the message waits in this end's buffer, in order (see {@link drain}).
   * @throws SerializationError before anything is sent, ClosedError, InvalidStateError (reader of
   * a one-way pipe), BrokenPipeError when the other end is closed.
   */
  send(obj: S): void {
    const outbox = this.#sender();
    // the common case: encoded straight into the ring, or into the backlog's batch of frames;
    // otherwise (a large message) a copy of the bytes waits
    const rest = serializeOr(obj, this.#sendNow);
    if (rest) outbox.enqueue(rest, true);
  }

  /**
   * Sends `size` bytes of `buf` from byte `offset` (both in bytes, as in Python) as one message,
   * without serializing. @throws RangeError for bounds outside the buffer.
   */
  sendBytes(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): void {
    const outbox = this.#sender();
    outbox.enqueue(this.#allowed(bytesOf(buf, offset, size)), false);
  }

  /**
   * Resolves when every message sent so far has entered the pipe and, for an end whose pipe lives
   * in another process or is a `Listener`/`Client` connection, has left this process (the OS holds
   * it): from then on, this process being killed does not lose it. @throws what a buffered send met.
   */
  async drain(): Promise<void> {
    await this.#outbox?.drain();
    await this.#channel.sentOut(this.#end);
  }

  /**
   * Sends `obj`, blocking this thread while the pipe has no room.
   * @throws TimeoutError after `timeout`, InvalidStateError while async sends are still buffered
   * (await {@link drain} first), and what {@link send} throws.
   */
  sendSync(obj: S, opts: RecvSyncOptions = {}): void {
    const outbox = this.#sender();
    const timeout = checkTimeout(opts.timeout);
    if (outbox.pumping) throw new InvalidStateError("sendSync while sent messages are still buffered: await drain() first");
    // the common case first: room now, encoded straight into the ring, no deadline objects
    const bytes = serializeOr(obj, this.#putNow);
    if (!bytes) return;
    if (outbox.fits(bytes) && outbox.tryPut(bytes)) {
      recycleSerialized(bytes);
      return;
    }
    outbox.putSync(bytes, new Deadline(timeout), true);
  }

  /**
   * As {@link sendBytes}, blocking this thread while the pipe has no room; the bytes are copied
   * straight into the pipe (no buffering copy). @throws what {@link sendSync} throws.
   */
  sendBytesSync(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number, opts: RecvSyncOptions = {}): void {
    const outbox = this.#sender();
    const deadline = new Deadline(checkTimeout(opts.timeout));
    const bytes = this.#allowed(bytesOf(buf, offset, size));
    if (outbox.pumping) throw new InvalidStateError("sendBytesSync while sent messages are still buffered: await drain() first");
    outbox.putSync(bytes, deadline, false);
  }

  /** Takes the next message and returns `decode(bytes)`, waiting in slices that notice a dead writer. */
  async #take<T>(deadline: Deadline, signal: AbortSignal | undefined, decode: Decode<T>): Promise<T> {
    const ring = this.#readRing();
    const got = ring.tryGetFrame(decode);
    if (got !== NOT_NOW) return got;
    if (ring.count() === 0 && deadline.remaining() > 0) {
      this.#channel.wantMore();
      // a message due within microseconds is taken without an async wake-up (core's adaptive-spin.ts)
      if (this.#spin.spin(() => ring.count() > 0)) {
        const soon = ring.tryGetFrame(decode);
        if (soon !== NOT_NOW) return soon;
      }
    }
    const since = performance.now();
    for (;;) {
      const slice = probeSlice(deadline);
      if (ring.count() === 0) this.#channel.wantMore();
      try {
        const v = await ring.getAsync(decode, { deadline: slice, signal });
        this.#spin.slept(since);
        return v;
      } catch (e) {
        if (e instanceof ShutDownError) throw this.#shutError();
        if (!(e instanceof EmptyError)) throw e;
        if (deadline.expired()) throw new TimeoutError("nothing was received in time");
        this.#peerGone();
      }
    }
  }

  #takeSync<T>(timeout: number, decode: Decode<T>): T {
    const ring = this.#readRing();
    // this end's buffered sends move on before this thread blocks (their pump needs the event
    // loop), and between slices of its waits while any are left (core's memory/before-block.ts)
    this.#outbox?.moveOn();
    // the common case first: a one-frame message is there and the lock is free
    const got = ring.tryGetFrame(decode);
    if (got !== NOT_NOW) return got;
    // a message is there (a deadline of 0 never waits for one, and a started item is finished
    // whatever the deadline: blocking is what a sync call does)
    if (ring.count() > 0) {
      try {
        return ring.getSync(decode, { deadline: ZERO });
      } catch (e) {
        if (e instanceof ShutDownError) throw this.#shutError();
        if (!(e instanceof EmptyError)) throw e;
      }
    }
    const deadline = new Deadline(timeout);
    for (;;) {
      const slice = probeSlice(deadline);
      if (ring.count() === 0) this.#channel.wantMore();
      try {
        return ring.getSync(decode, { deadline: slice });
      } catch (e) {
        if (e instanceof ShutDownError) throw this.#shutError();
        if (!(e instanceof EmptyError)) throw e;
        if (deadline.expired()) throw new TimeoutError("nothing was received in time");
        this.#peerGone();
      }
    }
  }

  /**
   * Receives the next message.
   * @throws EOFError when the other end is closed and nothing is left, TimeoutError after
   * `timeout`, ClosedError after this end's `close()`, the codec's error for bytes that are not a
   * message (sent with `sendBytes`).
   */
  recv(opts: RecvOptions = {}): Promise<R> {
    try {
      const timeout = checkTimeout(opts.timeout);
      const signal = checkSignal(opts.signal);
      // a message is there: no deadline and no async frame
      const decode = this.#decode<R>;
      const got = this.#readRing().tryGetFrame(decode);
      if (got !== NOT_NOW) return Promise.resolve(got);
      return this.#take(new Deadline(timeout), signal, decode);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** As {@link recv}, blocking this thread. */
  recvSync(opts: RecvSyncOptions = {}): R {
    return this.#takeSync(checkTimeout(opts.timeout), this.#decode<R>);
  }

  #maxLength(max: number | undefined): (bytes: Uint8Array) => Uint8Array {
    if (max === undefined) return ownBytes;
    if (typeof max !== "number" || !(max >= 0)) throw new TypeError(`Expected \`maxLength\` to be a number >= 0, got ${String(max)}`);
    return (bytes) => {
      if (bytes.byteLength > max) {
        // Python: the connection becomes unusable
        this.close();
        throw new IpcError(`message of ${bytes.byteLength} bytes is longer than maxLength ${max}; the connection is closed`);
      }
      return ownBytes(bytes);
    };
  }

  /** Receives the next message as its bytes. @throws IpcError (and closes this end) when longer than `maxLength`. */
  recvBytes(opts: RecvOptions & { maxLength?: number } = {}): Promise<Uint8Array> {
    try {
      const decode = this.#maxLength(opts.maxLength);
      return this.#take(new Deadline(checkTimeout(opts.timeout)), checkSignal(opts.signal), decode);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** As {@link recvBytes}, blocking this thread. */
  recvBytesSync(opts: RecvSyncOptions & { maxLength?: number } = {}): Uint8Array {
    return this.#takeSync(checkTimeout(opts.timeout), this.#maxLength(opts.maxLength));
  }

  #into(buf: ArrayBufferView, offset: number): Decode<number> {
    if (!ArrayBuffer.isView(buf)) throw new TypeError("Expected `buf` to be a TypedArray, DataView or Buffer");
    if (!Number.isInteger(offset) || offset < 0 || offset > buf.byteLength) {
      throw new RangeError(`Expected \`offset\` to be an integer in [0, ${buf.byteLength}], got ${String(offset)}`);
    }
    const target = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const room = target.byteLength - offset;
    const into: Decode<number> = (bytes) => {
      if (bytes.byteLength > room) {
        const e = new BufferTooShortError(`a message of ${bytes.byteLength} bytes does not fit in ${room} bytes`);
        Object.defineProperty(e, "data", { value: bytes.slice(), enumerable: true });
        throw e;
      }
      // a message of several frames was assembled in place (assemble below)
      if (bytes.buffer !== target.buffer || bytes.byteOffset !== target.byteOffset + offset) target.set(bytes, offset);
      return bytes.byteLength;
    };
    // a message that fits is assembled straight in the caller's buffer: no second copy
    into.assemble = (total) => (total <= room ? target.subarray(offset, offset + total) : undefined);
    return into;
  }

  /**
   * Receives the next message's bytes into `buf` from byte `offset`; returns their count. A large
   * message is copied into `buf` as it arrives, so bytes of `buf` past `offset` are unspecified
   * when the call fails (as when the writer ends mid-message).
   * @throws BufferTooShortError (the message is consumed and in the error's `data`) when it does not fit.
   */
  recvBytesInto(buf: ArrayBufferView, offset = 0, opts: RecvOptions = {}): Promise<number> {
    try {
      const decode = this.#into(buf, offset);
      return this.#take(new Deadline(checkTimeout(opts.timeout)), checkSignal(opts.signal), decode);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** As {@link recvBytesInto}, blocking this thread. */
  recvBytesIntoSync(buf: ArrayBufferView, offset = 0, opts: RecvSyncOptions = {}): number {
    return this.#takeSync(checkTimeout(opts.timeout), this.#into(buf, offset));
  }

  /** @internal true when a recv would not wait: a message is there, or the other end is gone. */
  readyNow(): boolean {
    const ring = this.#readRing();
    return ring.count() > 0 || !ring.isOpen() || this.#peerGone();
  }

  /** @internal a waiter found nothing: ask a far relay for more (bridged ends only). */
  wantMore(): void {
    this.#channel.wantMore();
  }

  /** @internal what a waiter sleeps on: the read ring's data sequence word. */
  waitWord(): RingWaiter {
    return this.#readRing().dataWaiter();
  }

  /**
   * Whether a message (or EOF) is ready, waiting up to `timeout` ms (default 0: answer at once;
   * `Infinity` waits until one is). Never consumes anything.
   */
  async poll(timeout = 0, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const deadline = new Deadline(checkTimeout(timeout));
    const signal = checkSignal(opts.signal);
    const { i32, index, counter, backend } = this.waitWord();
    for (;;) {
      const seq = Atomics.load(i32, index);
      if (this.readyNow()) return true;
      this.#channel.wantMore();
      if (deadline.expired()) return false;
      registerSleeper(i32, counter);
      try {
        await backend.waitAsync(i32, index, seq, Math.min(deadline.remaining(), PROBE_MS), signal);
      } finally {
        unregisterSleeper(i32, counter);
      }
    }
  }

  /** As {@link poll}, blocking this thread. */
  pollSync(timeout = 0): boolean {
    const deadline = new Deadline(checkTimeout(timeout));
    const { i32, index, counter, backend } = this.waitWord();
    for (;;) {
      const seq = Atomics.load(i32, index);
      if (this.readyNow()) return true;
      this.#channel.wantMore();
      if (deadline.expired()) return false;
      registerSleeper(i32, counter);
      try {
        backend.wait(i32, index, seq, Math.min(deadline.remaining(), PROBE_MS));
      } finally {
        unregisterSleeper(i32, counter);
      }
    }
  }

  /**
   * Closes this end (idempotent). Messages it sent stay readable by the other end; once every
   * copy of this end (in every thread and process) is closed or gone, the other end reads EOF.
   * Messages still buffered by {@link send} are delivered first.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#outbox?.pumping) this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    untrackHold(this.#hold);
    this.#channel.release(this.#end);
  }

  /** Closes the connection (`using` / `await using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Closes the connection after its buffered messages entered the pipe. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.drain();
    } finally {
      this.close();
    }
  }

  /** Yields messages until the other end is closed (EOF): one `recv()` per message. */
  [Symbol.asyncIterator](): AsyncIterableIterator<R> {
    return untilEnd(
      () => this.recv(),
      isEOF,
      () => this.#readRing().tryGetFrame(this.#decode<R>),
    );
  }

  /** @internal */
  [toHandle](ctx: HandleContext): HandleDescriptor {
    this.#open();
    return { type: Connection.handleType, module: import.meta.url, state: connectionState(this.#channel, this.#end, ctx) };
  }

  /** A short description, e.g. `<Connection end=0 duplex>`. */
  toString(): string {
    return `<Connection end=${this.#end}${this.#channel.duplex ? " duplex" : this.readable ? " reader" : " writer"}${this.#closed ? " closed" : ""}>`;
  }
}

registerHandleType(Connection.handleType, connectionReviver(Connection));

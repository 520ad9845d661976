/**
 * Connection: one end of a pipe (Python's `multiprocessing.connection.Connection`). Every
 * Connection reads and writes the rings of a pipe in this process's memory (channel.ts); an end
 * handed to another process is revived there as a fresh local pipe whose far end is relayed over
 * an authenticated socket to the home of the original (relay.ts), so every operation, `*Sync`
 * ones included, works the same in every context.
 */
import {
  allocLarge,
  atomicsBackend,
  BrokenPipeError,
  BufferTooShortError,
  checkSignal,
  checkTimeout,
  ClosedError,
  currentAuthkey,
  Deadline,
  type Decode,
  deserialize,
  EmptyError,
  EOFError,
  errorClasses,
  exportToBroker,
  FullError,
  InvalidStateError,
  IpcError,
  MessageTooLargeError,
  localOwnerId,
  NOT_NOW,
  recycleSerialized,
  registerHandleType,
  runInBroker,
  serializeOr,
  ShutDownError,
  TimeoutError,
  toHandle,
  type HandleContext,
  type HandleDescriptor,
  type RemoteRef,
  type Ring,
} from "@ipc/core";
import { Channel, checkMaxMessageSize, PROBE_MS, probeSlice } from "./channel.js";
import { channelHomeOf } from "./channel-home.js";
import { IO_TASKS } from "./io-url.js";
import { trackHold, untrackHold, type Hold } from "./holds.js";

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

/** How a handle describes a connection. */
interface ConnectionState {
  end: number;
  /** Owner id of the sender, whose in-flight copy the receiver takes over. */
  from: number;
  sab?: SharedArrayBuffer;
  remote?: RemoteRef;
  duplex: boolean;
  ringSize: number;
  /** Its messages come from a network peer. */
  peer?: boolean;
  /** Its `maxMessageSize`, when it has one. */
  maxMessage?: number;
}

const ZERO = new Deadline(0);
/**
 * Large messages are handed over, not streamed (core's ring.ts): a pipe's rings are read only in
 * this process (an end in another process is relayed), so the sender copies a message once into a
 * native block and the receiver takes that block as its buffer.
 */
const HAND_OVER = true;
const EMPTY = new Uint8Array(0);
const FOREVER = new Deadline(Infinity);
const decodeMessage = <R>(bytes: Uint8Array): R => deserialize<R>(bytes, { owned: !(bytes.buffer instanceof SharedArrayBuffer) });
/** A message from a network peer: data only, no handle revived (core's trust model). */
const decodePeerMessage = <R>(bytes: Uint8Array): R => deserialize<R>(bytes, { owned: !(bytes.buffer instanceof SharedArrayBuffer), peer: true });
/** The message as its own buffer (copied out when it is still in the ring). */
function ownBytes(bytes: Uint8Array): Uint8Array {
  if (!(bytes.buffer instanceof SharedArrayBuffer)) return bytes;
  const out = allocLarge(bytes.byteLength);
  out.set(bytes);
  return out;
}

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
  /** Messages sent while the ring had no room, in order, from `#next` on (no O(n) shifts). */
  #backlog: Uint8Array[] = [];
  #next = 0;
  #pump: Promise<void> | undefined;
  #pumpError: Error | undefined;

  /** @internal */
  constructor(token: typeof INTERNAL, channel: Channel, end: number) {
    if (token !== INTERNAL) throw new TypeError("Connection is created by Pipe(), Client() or Listener.accept()");
    this.#channel = channel;
    this.#end = end;
    this.#hold = trackHold(this, channel, end);
    this.#decode = channel.peer ? decodePeerMessage : decodeMessage;
    this.#maxMessage = channel.maxMessage;
  }

  /** @internal a connection over `sab`'s end `end`, taking over the in-flight copy of owner `from`. */
  static adopt<S, R>(sab: SharedArrayBuffer, end: number, from: number): Connection<S, R> {
    const channel = new Channel(sab, atomicsBackend);
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

  #writeRing(): Ring {
    this.#open();
    const ring = this.#channel.writeRing(this.#end);
    if (!ring) throw new InvalidStateError("this end of a one-way pipe only receives");
    if (this.#pumpError) throw this.#pumpError;
    return ring;
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
    const ring = this.#writeRing();
    // the common case: encoded straight into the ring; otherwise a copy of the bytes waits
    const rest = serializeOr(obj, (bytes) => this.#allowed(bytes) && this.#pump === undefined && ring.tryPutFrame(bytes, false));
    if (rest) this.#enqueue(ring, rest, true);
  }

  /**
   * Sends `size` bytes of `buf` from byte `offset` (both in bytes, as in Python) as one message,
   * without serializing. @throws RangeError for bounds outside the buffer.
   */
  sendBytes(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): void {
    const ring = this.#writeRing();
    const bytes = this.#allowed(bytesOf(buf, offset, size));
    // the caller may reuse its buffer at once: the backlog keeps a copy
    this.#enqueue(ring, bytes, false);
  }

  #enqueue(ring: Ring, bytes: Uint8Array, owned: boolean): void {
    if (this.#pump === undefined && this.#fits(ring, bytes) && this.#tryPut(ring, bytes)) {
      if (owned) recycleSerialized(bytes);
      return;
    }
    this.#backlog.push(owned ? bytes : bytes.slice());
    this.#startPump(ring);
  }

  /** Starts the pump unless it runs; its end is observed asynchronously, after `#pump` is set. */
  #startPump(ring: Ring): void {
    if (this.#pump) return;
    this.#pump = this.#runPump(ring).finally(() => {
      this.#pump = undefined;
      if (this.#next < this.#backlog.length && !this.#pumpError) this.#startPump(ring);
      else if (this.#closed) this.#release();
    });
  }

  /**
   * True when a put with a deadline of 0 cannot wait: one frame, a large message handed over (one
   * frame too), or the whole item fits now.
   */
  #fits(ring: Ring, bytes: Uint8Array): boolean {
    return bytes.byteLength + 8 <= ring.maxChunk || ring.handsOver(bytes.byteLength) || ring.fitsNow(bytes.byteLength);
  }

  /** Puts a message if there is room now (callers check {@link #fits}: it never waits mid-item). */
  #tryPut(ring: Ring, bytes: Uint8Array): boolean {
    if (ring.tryPutFrame(bytes, false)) return true;
    try {
      ring.putSync(bytes, { deadline: ZERO, handOver: HAND_OVER });
      return true;
    } catch (e) {
      if (e instanceof FullError) return false;
      throw this.#sendError(e);
    }
  }

  async #runPump(ring: Ring): Promise<void> {
    try {
      while (this.#next < this.#backlog.length) {
        const bytes = this.#backlog[this.#next]!;
        // after a wake-up, fill the room there is without waiting again (one wake-up per batch)
        if (!(this.#fits(ring, bytes) && this.#tryPut(ring, bytes))) await this.#putAsync(ring, bytes, FOREVER);
        this.#backlog[this.#next++] = EMPTY;
      }
      this.#backlog = [];
      this.#next = 0;
    } catch (e) {
      this.#pumpError = this.#sendError(e) as Error;
      this.#backlog = [];
      this.#next = 0;
    }
  }

  /** Puts with waits sliced so that a dead reader is noticed. */
  async #putAsync(ring: Ring, bytes: Uint8Array, deadline: Deadline, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const slice = probeSlice(deadline);
      try {
        await ring.putAsync(bytes, { deadline: slice, handOver: HAND_OVER, signal });
        return;
      } catch (e) {
        if (!(e instanceof FullError)) throw e;
        if (deadline.expired()) throw new TimeoutError("the pipe had no room in time");
        this.#peerGone();
      }
    }
  }

  /** Resolves when every message sent so far has entered the pipe. @throws what a buffered send met. */
  async drain(): Promise<void> {
    while (this.#pump) await this.#pump;
    if (this.#pumpError) throw this.#pumpError;
  }

  /**
   * Sends `obj`, blocking this thread while the pipe has no room.
   * @throws TimeoutError after `timeout`, InvalidStateError while async sends are still buffered
   * (await {@link drain} first), and what {@link send} throws.
   */
  sendSync(obj: S, opts: RecvSyncOptions = {}): void {
    const ring = this.#writeRing();
    const timeout = checkTimeout(opts.timeout);
    if (this.#pump) throw new InvalidStateError("sendSync while sent messages are still buffered: await drain() first");
    // the common case first: room now, encoded straight into the ring, no deadline objects
    const bytes = serializeOr(obj, (b) => this.#allowed(b) && ring.tryPutFrame(b, false));
    if (!bytes) return;
    if (this.#fits(ring, bytes) && this.#tryPut(ring, bytes)) {
      recycleSerialized(bytes);
      return;
    }
    this.#putSync(ring, bytes, new Deadline(timeout), true);
  }

  /**
   * As {@link sendBytes}, blocking this thread while the pipe has no room; the bytes are copied
   * straight into the pipe (no buffering copy). @throws what {@link sendSync} throws.
   */
  sendBytesSync(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number, opts: RecvSyncOptions = {}): void {
    const ring = this.#writeRing();
    const deadline = new Deadline(checkTimeout(opts.timeout));
    const bytes = this.#allowed(bytesOf(buf, offset, size));
    if (this.#pump) throw new InvalidStateError("sendBytesSync while sent messages are still buffered: await drain() first");
    this.#putSync(ring, bytes, deadline, false);
  }

  #putSync(ring: Ring, bytes: Uint8Array, deadline: Deadline, owned: boolean): void {
    for (;;) {
      const slice = probeSlice(deadline);
      try {
        ring.putSync(bytes, { deadline: slice, handOver: HAND_OVER });
        if (owned) recycleSerialized(bytes);
        return;
      } catch (e) {
        if (!(e instanceof FullError)) throw this.#sendError(e);
        if (deadline.expired()) throw new TimeoutError("the pipe had no room in time");
        this.#peerGone();
      }
    }
  }

  /** Takes the next message and returns `decode(bytes)`, waiting in slices that notice a dead writer. */
  async #take<T>(deadline: Deadline, signal: AbortSignal | undefined, decode: Decode<T>): Promise<T> {
    const ring = this.#readRing();
    const got = ring.tryGetFrame(decode);
    if (got !== NOT_NOW) return got;
    for (;;) {
      const slice = probeSlice(deadline);
      if (ring.count() === 0) this.#channel.wantMore();
      try {
        return await ring.getAsync(decode, { deadline: slice, signal });
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
  waitWord(): { i32: Int32Array; index: number; counter: number } {
    return this.#readRing().dataWaiter();
  }

  /**
   * Whether a message (or EOF) is ready, waiting up to `timeout` ms (default 0: answer at once;
   * `Infinity` waits until one is). Never consumes anything.
   */
  async poll(timeout = 0, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const deadline = new Deadline(checkTimeout(timeout));
    const signal = checkSignal(opts.signal);
    const { i32, index, counter } = this.waitWord();
    for (;;) {
      const seq = Atomics.load(i32, index);
      if (this.readyNow()) return true;
      this.#channel.wantMore();
      if (deadline.expired()) return false;
      Atomics.add(i32, counter, 1);
      try {
        await atomicsBackend.waitAsync(i32, index, seq, Math.min(deadline.remaining(), PROBE_MS), signal);
      } finally {
        Atomics.sub(i32, counter, 1);
      }
    }
  }

  /** As {@link poll}, blocking this thread. */
  pollSync(timeout = 0): boolean {
    const deadline = new Deadline(checkTimeout(timeout));
    const { i32, index, counter } = this.waitWord();
    for (;;) {
      const seq = Atomics.load(i32, index);
      if (this.readyNow()) return true;
      this.#channel.wantMore();
      if (deadline.expired()) return false;
      Atomics.add(i32, counter, 1);
      try {
        atomicsBackend.wait(i32, index, seq, Math.min(deadline.remaining(), PROBE_MS));
      } finally {
        Atomics.sub(i32, counter, 1);
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
    if (!this.#pump) this.#release();
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

  /** Yields messages until the other end is closed (EOF). */
  async *[Symbol.asyncIterator](): AsyncIterator<R> {
    for (;;) {
      try {
        yield await this.recv();
      } catch (e) {
        if (e instanceof EOFError) return;
        throw e;
      }
    }
  }

  /** @internal */
  [toHandle](ctx: HandleContext): HandleDescriptor {
    this.#open();
    const channel = this.#channel;
    const ringSize = channel.rings[0]!.capacity;
    // counted on this isolate until the receiver counts its own copy
    channel.hold(this.#end);
    const state: ConnectionState = { end: this.#end, from: localOwnerId, duplex: channel.duplex, ringSize };
    if (channel.peer) state.peer = true;
    if (channel.maxMessage !== 0) state.maxMessage = channel.maxMessage;
    if (ctx.target === "thread") state.sab = channel.buffer;
    else state.remote = exportToBroker(channelHomeOf(channel));
    return { type: Connection.handleType, module: import.meta.url, state };
  }

  /** A short description, e.g. `<Connection end=0 duplex>`. */
  toString(): string {
    return `<Connection end=${this.#end}${this.#channel.duplex ? " duplex" : this.readable ? " reader" : " writer"}${this.#closed ? " closed" : ""}>`;
  }
}

/** The bytes `sendBytes` sends, with Python's bounds rules (offset and size in bytes). */
function bytesOf(buf: ArrayBufferView | ArrayBuffer, offset: number, size: number | undefined): Uint8Array {
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

registerHandleType(Connection.handleType, (state: ConnectionState) => {
  if (state.sab) return Connection.adopt(state.sab, state.end, state.from);
  if (!state.remote) throw new ClosedError("bad Connection handle");
  // another process's end: a local pipe whose other end a relay in this process's broker thread
  // connects to the home of the original
  const sab = Channel.allocate(state.duplex, state.ringSize);
  const channel = new Channel(sab, atomicsBackend);
  const far = 1 - state.end;
  channel.setBridged();
  if (state.peer) channel.setPeer();
  if (state.maxMessage !== undefined) channel.setMaxMessage(checkMaxMessageSize(state.maxMessage));
  channel.hold(state.end);
  channel.hold(far); // in flight to the relay, which takes it over
  const conn = Connection.over(channel, state.end);
  runInBroker(IO_TASKS, "bridge", [sab, far, localOwnerId, state.remote.address, state.remote.id, state.end, state.from, new Uint8Array(currentAuthkey())]).catch(
    (e: Error) => {
      channel.setError(new ClosedError(`cannot reach the home of this connection: ${e.name}: ${e.message}`));
      channel.closeEnd(far);
    },
  );
  return conn;
});

/**
 * Queue: Python's `multiprocessing.Queue` for threads and processes. The items live in a shared
 * ring (ring.ts). Where `@ipc/native` is loaded the ring is in memory that other processes map
 * (native-memory.ts), so every thread of every process uses it directly; without the addon, threads
 * of the home process use it directly and other processes reach it through the home's broker.
 */
import { setMaxListeners } from "node:events";
import { ClosedError, deserialize, serialize } from "@ipc/core";
import { AdaptiveSpin, checkInt, checkSignal, checkTimeout, optionsArg, timeoutArg, type RemoteCodec, Deadline, INTERNAL, registerShared, serializeOr, SharedObject, recycleSerialized, trackPendingWrite, untilShutDown, wordsOf, type Exposed, type SharedInit, HEADER_BYTES, tryAllocateNativeWords, NOT_NOW, Ring } from "@ipc/core/internal";

import { DEFAULT_RING_SIZE, type QueueOptions, type QueueWaitOptions, type QueueWaitSyncOptions, type ShutdownOptions } from "./options.js";

/** An item is owned by its getter (ignored for bytes still in the ring: see `deserialize`). */
const OWNED = Object.freeze({ owned: true });
/** Decodes an item; an assembled multi-frame item is a private buffer, so large arrays can be views into it. */
const decode = <T>(bytes: Uint8Array): T => deserialize<T>(bytes, OWNED);
/** The bytes of an item for a remote consumer: a copy, since ring memory is reused. */
const copyBytes = (bytes: Uint8Array): Uint8Array => bytes.slice();

/** @internal builds the init of a new local queue. */
export function newQueueInit(opts: QueueOptions | undefined): SharedInit<null> {
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) throw new TypeError("Expected `opts` to be an object");
  const maxSize = checkInt(opts?.maxSize ?? 0, "maxSize", 0, 0x7fffffff);
  const ringSize = checkInt(opts?.ringSize ?? DEFAULT_RING_SIZE, "ringSize", 4096, 1 << 30);
  if ((ringSize & (ringSize - 1)) !== 0) throw new RangeError(`Expected \`ringSize\` to be a power of two, got \`${ringSize}\``);
  // memory other processes can map: a queue handed to a child process is used there directly
  const words = tryAllocateNativeWords(HEADER_BYTES + ringSize, Ring.HEADER_WORDS, Ring.LOCK_WORDS);
  if (words) {
    Ring.format(words.buffer, 0, ringSize, maxSize);
    return { kind: "local", words, extra: null };
  }
  return { kind: "local", words: wordsOf(Ring.allocate(ringSize, maxSize), 0, Ring.HEADER_WORDS), extra: null };
}

/**
 * A FIFO queue shared by threads and processes.
 *
 * @example
 * const q = new Queue<number>({ maxSize: 100 });
 * await q.put(1);
 * await q.get(); // 1
 */
export class Queue<T = unknown> extends SharedObject<null> {
  /** Handle type name. */
  static readonly handleType: string = "@ipc/queue:Queue";
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  #ring: Ring | undefined;
  #closed = false;
  /** Puts encoded bytes straight into the ring when it has room (one function per queue, not per put). */
  readonly #putNow = (bytes: Uint8Array): boolean => this.#ring!.tryPutFrame(bytes, this.joinable);
  /** The short busy-wait of this handle's gets (core's adaptive-spin.ts). */
  readonly #spin = new AdaptiveSpin();
  /** Aborted by `close()`: ends the waits pending on this handle (made on the first wait). */
  #closer: AbortController | undefined;

  constructor(opts?: QueueOptions);
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<null>);
  constructor(opts?: QueueOptions | typeof INTERNAL, init?: SharedInit<null>) {
    super(opts === INTERNAL && init ? init : newQueueInit(opts as QueueOptions | undefined));
    if (this.words) this.#ring = new Ring(this.words.buffer, this.words.byteOffset, this.words.backend);
  }

  /** @internal whether puts count as tasks (JoinableQueue). */
  protected get joinable(): boolean {
    return false;
  }

  /** @internal the ring of a local queue. */
  protected get ring(): Ring | undefined {
    return this.#ring;
  }

  /** @internal throws ClosedError after `close()`. */
  protected override check(): void {
    if (this.#closed) throw new ClosedError(`${this.constructor.name} is closed`);
  }

  /**
   * @internal the signal a wait on this handle obeys: the caller's, and `close()` (which rejects
   * the wait with ClosedError and releases what kept the event loop alive for it).
   */
  protected waitSignal(signal: AbortSignal | undefined): AbortSignal {
    let closer = this.#closer;
    if (!closer) {
      closer = this.#closer = new AbortController();
      // every pending wait listens to it: thousands of waiting gets are normal, not a leak
      setMaxListeners(0, closer.signal);
    }
    return signal ? AbortSignal.any([signal, closer.signal]) : closer.signal;
  }

  /**
   * Puts an item, waiting (without blocking the event loop) while the queue is full. A value that
   * cannot be serialized and a closed handle reject at once, before any wait.
   * @throws FullError after `timeout`, ShutDownError after `shutdown()`, ClosedError after `close()`.
   */
  async put(item: T, opts: QueueWaitOptions = {}): Promise<void> {
    this.check();
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    // the common case: encoded straight into the ring; otherwise a copy of the bytes waits
    const ring = this.#ring!;
    const bytes = serializeOr(item, this.#putNow);
    if (!bytes) return;
    const putOpts = { deadline: new Deadline(timeout), joinable: this.joinable, signal: this.waitSignal(signal) };
    if (bytes.byteLength <= ring.maxChunk) {
      await ring.putAsync(bytes, putOpts);
      recycleSerialized(bytes);
      return;
    }
    // An item of several frames is in the queue once its first frame is: put returns then, as
    // Python's returns once its feeder thread has the item, and the rest streams on as consumers
    // make room (one in this same thread included: waiting for the whole item here could wait
    // forever). Puts after it wait for it (the ring's tail lock), so the order is kept.
    await new Promise<void>((resolve, reject) => {
      let committed = false;
      const writing = ring.putAsync(bytes, { ...putOpts, onCommitted: () => ((committed = true), resolve()) }).then(
        () => recycleSerialized(bytes),
        // after the commit only an immediate shutdown cuts an item off (its consumers drop it)
        (error: unknown) => (committed ? undefined : reject(error)),
      );
      // a child that ends waits for it (process bootstrap)
      trackPendingWrite(writing);
    });
  }

  /** As {@link put}, blocking the calling thread. */
  putSync(item: T, opts: QueueWaitSyncOptions = {}): void {
    this.check();
    const timeout = checkTimeout(opts.timeout);
    const ring = this.#ring!;
    const bytes = serializeOr(item, this.#putNow);
    if (!bytes) return;
    ring.putSync(bytes, { deadline: new Deadline(timeout), joinable: this.joinable });
    recycleSerialized(bytes);
  }

  /** Puts only if there is room right now. @throws FullError */
  putNowait(item: T): void {
    this.putSync(item, { timeout: 0 });
  }

  /**
   * Takes the oldest item, waiting (without blocking the event loop) while the queue is empty.
   * @throws EmptyError after `timeout`, ShutDownError once shut down and drained, ClosedError after `close()`.
   */
  async get(opts: QueueWaitOptions = {}): Promise<T> {
    this.check();
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    const ring = this.#ring!;
    const got = ring.tryGetFrame(decode<T>);
    if (got !== NOT_NOW) return got;
    // an item due within microseconds is taken without an async wake-up (core's adaptive-spin.ts)
    if (timeout > 0 && ring.count() === 0 && this.#spin.spin(() => ring.count() > 0)) {
      const soon = ring.tryGetFrame(decode<T>);
      if (soon !== NOT_NOW) return soon;
    }
    const since = performance.now();
    const item = await ring.getAsync(decode<T>, { deadline: new Deadline(timeout), signal: this.waitSignal(signal) });
    this.#spin.slept(since);
    return item;
  }

  /** As {@link get}, blocking the calling thread. */
  getSync(opts: QueueWaitSyncOptions = {}): T {
    this.check();
    const timeout = checkTimeout(opts.timeout);
    const got = this.#ring!.tryGetFrame(decode<T>);
    if (got !== NOT_NOW) return got;
    return this.#ring!.getSync(decode<T>, { deadline: new Deadline(timeout) });
  }

  /** Takes an item only if one is there right now. @throws EmptyError */
  getNowait(): T {
    return this.getSync({ timeout: 0 });
  }

  /** Approximate number of items (as in Python, others may change it at any moment). */
  qsize(): number {
    return this.#ring!.count();
  }

  /** True when the queue holds no item (approximate). */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** True when the queue holds `maxSize` items (approximate); never for an unbounded queue. */
  full(): boolean {
    const max = this.#ring!.maxSize();
    return max > 0 && this.#ring!.count() >= max;
  }

  /** The item limit, 0 when unbounded. */
  get maxSize(): number {
    return this.#ring!.maxSize();
  }

  /**
   * This handle may put and get no more (other handles are unaffected); its pending `get`, `put`
   * and `join` calls reject with ClosedError (an item a pending put had begun writing is
   * finished first, as a committed operation always is). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closer?.abort(new ClosedError(`${this.constructor.name} was closed while this call waited`));
  }

  /** True after `close()` on this handle. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Shuts the queue down for every handle: puts throw ShutDownError; gets drain what is left and
   * then throw ShutDownError. With `immediate: true` the items are discarded (and count as done
   * for `join`) and gets throw at once.
   */
  shutdown(opts: ShutdownOptions = {}): void {
    this.#ring!.shutdown(opts.immediate === true);
  }

  /** Yields items until the queue is shut down and drained. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return untilShutDown(
      () => this.get(),
      // an item that is there now, without a get() promise (a remote copy has no ring here)
      () => {
        this.check();
        return this.#ring ? this.#ring.tryGetFrame(decode<T>) : NOT_NOW;
      },
    );
  }


  /** The methods a process that holds this queue remotely calls (see SharedObject#serve): items travel as bytes. */
  static readonly exposed: Exposed<Queue> = {
    put: (q, args, call) => {
      if (!(args[0] instanceof Uint8Array)) throw new TypeError("a remote put sends the item's bytes");
      return q.#ring!.putAsync(args[0], { deadline: new Deadline(timeoutArg(args, 1)), joinable: q.joinable, signal: call.signal });
    },
    get: (q, args, call) => q.#ring!.getAsync(copyBytes, { deadline: new Deadline(timeoutArg(args, 0)), signal: call.signal }),
    qsize: (q) => q.qsize(),
    full: (q) => q.full(),
    maxSize: (q) => q.maxSize,
    shutdown: (q, args) => q.shutdown(optionsArg<ShutdownOptions>(args, 0)),
  };

  /** A remote copy sends an item as its bytes (serialized here, with this process's handles) and decodes what it gets. */
  static readonly remoteCodec: RemoteCodec = {
    put: { args: ([item, opts]) => [serialize(item), opts] },
    get: { result: (bytes) => deserialize(bytes as Uint8Array) },
  };

  /** A forwarded wait also ends when this handle is closed. */
  protected override callSignal(signal: AbortSignal | undefined): AbortSignal {
    return this.waitSignal(signal);
  }

  override toString(): string {
    return `<${this.constructor.name}${this.remote ? " remote" : ` size=${this.qsize()}`}${this.#closed ? " closed" : ""}>`;
  }
}

registerShared<null>(Queue.handleType, (init) => new Queue(INTERNAL, init));

/**
 * A multi-producer, multi-consumer ring of variable-size frames in one SharedArrayBuffer: the
 * storage of @ipc/queue's queues and of @ipc/pipe's pipes (docs/architecture.md, layer 4).
 *
 * The header is four groups of 16 words, 64 bytes apart, so that what producers write on every
 * item, what consumers write on every item, what both write (joinable queues, hand-overs) and what
 * is mostly read each sit on a cache line of their own: one side's stores do not make the other
 * side's next atomic miss. So no word is written by both sides per item: the number of items is
 * `PUTS - TAKES`, each counted on its own side. (A native block starts page-aligned; a
 * SharedArrayBuffer at least 16-byte aligned, where the words written per item, the first 16
 * bytes of groups 0 and 1, still keep a line apart.)
 *
 * | word | who writes | meaning |
 * |---|---|---|
 * | 0 `TAIL_LOCK` | producers | robust mutex naming its holder (robust-mutex.ts): one producer writes at a time |
 * | 1 `TAIL` | the producer holding `TAIL_LOCK` | bytes ever written (u32, wraps) |
 * | 2 `DATA_SEQ` | producers, shutdown | bumped after publishing; consumers sleep on it |
 * | 3 `PUTS` | the producer holding `TAIL_LOCK` (+1 on an item's first frame) | items ever put (u32, wraps) |
 * | 16 `HEAD_LOCK` | consumers | robust mutex: one consumer reads at a time |
 * | 17 `HEAD` | the consumer holding `HEAD_LOCK` | bytes ever read (u32, wraps) |
 * | 18 `SPACE_SEQ` | consumers, shutdown | bumped after freeing space or a slot; producers sleep on it |
 * | 19 `TAKES` | the consumer holding `HEAD_LOCK` (+1 on taking an item), immediate shutdown | items ever taken or discarded (u32, wraps); `PUTS - TAKES` is the number of items in the queue |
 * | 33 `UNFINISHED` | `put` (+1), `taskDone` (-1), immediate shutdown | JoinableQueue's unfinished tasks |
 * | 34 `JOIN_SEQ` | whoever brings `UNFINISHED` to 0 | `join` sleeps on it |
 * | 35-36 `HANDED` | the producer after publishing a hand-over frame, the consumer that takes it (→ 0) | the tokens in flight, 0 a free slot: two at a time |
 * | 48 `CONSUMERS` | consumers, on going to sleep and waking | consumers that may be asleep on `DATA_SEQ` |
 * | 49 `PRODUCERS` | producers, on going to sleep and waking | producers that may be asleep on `SPACE_SEQ` |
 * | 50 `MAX_SIZE` | `format` | item limit, 0 = unbounded (kept by each `Ring` object) |
 * | 51 `STATE` | `shutdown` | 0 open · 1 shut down · 2 shut down immediately (contents discarded) |
 * | 52 `CAPACITY` | `format` | bytes of the data area, a power of two |
 * | 56 `CONSUMER_SLEEPS` | consumers, on going to sleep | registrations in `CONSUMERS` ever (u32, wraps) |
 * | 57 `PRODUCER_SLEEPS` | producers, on going to sleep | registrations in `PRODUCERS` ever (u32, wraps) |
 *
 * Bytes 256.. hold the data area. A frame is a u32 header, a u32 holding the item's total length
 * in its first frame (unused in the others), then the payload padded to 8 bytes, so frames and
 * payloads start 8-byte aligned (V8 copies into and out of shared memory word by word only when
 * aligned: 1 KiB at offset 4 mod 8 takes ~320 ns, at 0 mod 8 ~60 ns). Header: bit 31 FIRST, bit
 * 30 LAST, bit 29 HAND_OVER, bits 0-28 the payload length; `0xFFFFFFFF` means "skip to the start
 * of the ring". An item longer than a quarter of the ring travels as several frames, streamed:
 * the producer writes the next frame as soon as there is room and the consumer copies each frame
 * out as soon as it is published, so an item of any size passes any ring, and neither side ever
 * holds the other side's lock.
 *
 * A hand-over frame (HAND_OVER, one frame; `put` with `handOver`, for a ring no other process
 * reads: pipes between threads) carries no bytes but a token and the item's length: the producer
 * copied the item once into a native block of this process, and the consumer takes the block as
 * the item's buffer (or copies it into one `decode.assemble` offers and frees it), so a large item
 * is copied once instead of twice and never streams through the ring. Two are in flight at most
 * (`HANDED`: the producer copies the next while the consumer takes the last); a producer waits
 * for a slot as for room, and clears a slot itself when the addon says its token was taken by a
 * consumer that ended before clearing it.
 *
 * Memory ordering: a producer writes a frame's bytes with plain stores, then publishes it with
 * `Atomics.store(TAIL)`; a consumer reads `TAIL` with `Atomics.load` before reading the bytes. In
 * the other direction a consumer copies a frame out before `Atomics.store(HEAD)`, and a producer
 * reads `HEAD` before overwriting. Sleepers register in `CONSUMERS`/`PRODUCERS` and sleep only
 * while the sequence word still holds the value read *before* they checked their condition; the
 * other side bumps the sequence *after* changing `TAIL`/`HEAD` and then reads the sleeper count,
 * so no wake-up is lost and no `notify` is paid while nobody sleeps. A sleeper also bumps its
 * side's registrations word (`*_SLEEPS`) before its count; a waker reads it after the count and
 * notifies only when it differs from what its own last notify covered: a sleeper it already woke,
 * whose thread has not run yet (an async waiter waits for its event loop), costs no second
 * `notify` per item (one per item was most of a reader's time while a pipe's pump slept). What is
 * remembered is each waker's own (no shared "wake already on its way" flag: one was tried and
 * removed, since a worker terminated between setting it and notifying left sleepers asleep).
 * The one-frame fast paths (`tryPutFrame`, `tryGetFrame`) keep the other
 * side's position as they last read it and read it again only when it no longer suffices, or
 * when their own position moved under them (another producer or consumer, a shutdown): a kept
 * `HEAD` is never ahead of the real one, and all it frees was read before the consumer stored it;
 * a kept `TAIL` likewise, for published frames. The fast paths read and write the words that only
 * their lock's holder writes (`TAIL` and `PUTS` for producers, `HEAD` read by consumers) with
 * plain loads and stores, which the lock's compare-exchange and exchange order (each `Atomics`
 * call is a builtin call in V8, ~4 ns); `STATE` they read plainly too, racing a shutdown: a
 * stale read is a put or take just before it. What the other side reads to see data or room
 * (`TAIL` and `HEAD` stores) stays `Atomics.store`. A hand-over block is filled
 * and filed under its token (under the addon's mutex) before its frame is published, and taken
 * under the same mutex; a slot word is set after the frame is published and cleared by the taker
 * with a compare-exchange on its token, so a stale word only ever names a token already taken.
 *
 * A worker thread terminated at any moment does not wedge the ring: the side locks are robust
 * (a waiter takes over the lock of an ended thread); a consumer that takes over skips the frames
 * of an item its predecessor had started reading (that one item is lost); a consumer assembling an
 * item whose producer ended drops it, and so does one that meets a new first frame mid-item. An
 * item counts as a task (JoinableQueue) only when its last frame is published.
 *
 * The operations are written once as generators that yield sleep requests, driven by a sync
 * driver (`Atomics.wait`) and an async one (`Atomics.waitAsync`). The common case, one small item
 * and a free lock, also has a fast path without generators or deadlines (`tryPutFrame`,
 * `tryGetFrame`): it takes the lock only with the uncontended compare-exchange and gives up (the
 * caller then takes the general path) on anything else, so the two paths never disagree.
 */
import { EmptyError, FullError, ShutDownError } from "../errors/errors.js";
import { robustHolder, PROBE_MS, unlockRobust } from "../locks/robust-mutex.js";
import { Deadline } from "../memory/deadline.js";
import { allocLarge } from "../memory/large-buffer.js";
import { nativeAdopt, nativeHandOver, nativeHandOverAvailable, nativeIsFiled, nativeTakeInto } from "../memory/native-memory.js";
import type { WaitBackend } from "../memory/wait-backend.js";
import { driveAsync, driveSync } from "./drive.js";
import { type FrameBatch, frameLength } from "./frame-batch.js";
import { FIRST, HAND_OVER, LAST, LENGTH_MASK, WRAP, frameBytes, pad8 } from "./frame-format.js";
import {
  TAIL_LOCK,
  HEAD_LOCK,
  TAIL,
  HEAD,
  PUTS,
  TAKES,
  DATA_SEQ,
  CONSUMERS,
  SPACE_SEQ,
  PRODUCERS,
  MAX_SIZE,
  STATE,
  UNFINISHED,
  JOIN_SEQ,
  CAPACITY,
  HANDED,
  HAND_OVER_SLOTS,
  HEADER_WORDS,
  HEADER_BYTES,
  OPEN,
  SHUT,
  SHUT_IMMEDIATE,
  SLEEPS_OFFSET,
} from "./ring-words.js";


/**
 * Turns an item's bytes into what a get returns. `assemble`, when given, may offer the buffer an
 * item of `total` bytes that spans several frames is assembled in (exactly `total` bytes, e.g. a
 * caller's own buffer), instead of a fresh one; `decode` then receives that buffer.
 */
export interface Decode<T> {
  (bytes: Uint8Array): T;
  assemble?(total: number): Uint8Array | undefined;
}

/** A word to sleep on outside the ring's own operations (see {@link Ring.dataWaiter}). */
export interface RingWaiter {
  i32: Int32Array;
  index: number;
  /** The sleeper count to register in (`registerSleeper`) while asleep. */
  counter: number;
  backend: WaitBackend;
}

/** What {@link Ring.tryGetFrame} returns when the fast path cannot take an item. */
export const NOT_NOW: unique symbol = Symbol("@ipc/core:not-now") as never;

/** A request from an operation to its driver: sleep on `index` while it holds `value`. */
export interface Sleep {
  index: number;
  value: number;
  /** The sleeper count to register in while asleep. */
  counter: number;
  deadline: Deadline;
  /** Longest single sleep (ms) before the operation looks again, when shorter than the deadline. */
  slice?: number;
  /**
   * In the middle of an item: the other side is streaming it (a frame is being copied in or out
   * right now), so the change is due within the time of a frame's copy. The driver spins that long
   * before it sleeps (see drive.ts).
   */
  soon?: boolean;
}

/** Options of {@link Ring.putSync} and {@link Ring.putAsync}. */
export interface RingPutOptions {
  /**
   * Until when to wait for the producers' lock, a slot (`maxSize`) and room; default: forever.
   * Once the item's first frame is published it is committed, and the rest is streamed whatever
   * the time. @throws FullError when it passes first.
   */
  deadline?: Deadline;
  /** Count the item as an unfinished task (JoinableQueue). */
  joinable?: boolean;
  /** Leave waking consumers to the caller, once per batch ({@link Ring.wakeConsumers}). */
  deferWake?: boolean;
  /**
   * Hand an item of at least {@link HAND_OVER_MIN} bytes over in native memory when the addon can
   * (only for a ring no other process reads: see the module comment).
   */
  handOver?: boolean;
  /** Cancels the waits that come before the item is committed (async only). */
  signal?: AbortSignal;
  /**
   * Called once the item is committed (its first frame published): from then on it is in the
   * queue, and the rest of a large item streams as consumers make room.
   */
  onCommitted?: () => void;
}

/** Options of {@link Ring.getSync} and {@link Ring.getAsync}. */
export interface RingGetOptions {
  /**
   * Until when to wait for the consumers' lock and an item; default: forever. Once an item's first
   * frame is taken, the rest is taken whatever the time. @throws EmptyError when it passes first.
   */
  deadline?: Deadline;
  /** Cancels the waits that come before an item is taken (async only). */
  signal?: AbortSignal;
}

const forever = new Deadline(Infinity);
const lockedFull = () => new FullError("the queue is full (its producers' lock was not free in time)");
const lockedEmpty = () => new EmptyError("the queue is empty (its consumers' lock was not free in time)");
const unreachable = () => new Error("unreachable: join takes no lock");
export { HEADER_BYTES };

/** Items from this size up are handed over by a `put` asked to (see the header). */
export const HAND_OVER_MIN = 256 * 1024;

/** The ring over one shared buffer. */
export class Ring {
  readonly i32: Int32Array;
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly capacity: number;
  readonly maxChunk: number;
  /** `MAX_SIZE`, which never changes after `format`: kept here, not read from the shared line per item. */
  readonly #maxSize: number;
  /** This object's last read of the other side's position and where it left its own (tryPutFrame, tryGetFrame). */
  #seenHead = 0;
  #leftTail = -1;
  #seenTail = 0;
  #leftHead = -1;
  /** `CONSUMER_SLEEPS` and `PRODUCER_SLEEPS` as this object last notified their sleepers (`wake`). */
  #notifiedConsumers = NaN;
  #notifiedProducers = NaN;
  /**
   * Called by a producer waiting for room in the middle of an item (every `PROBE_MS`), whose
   * deadline no longer applies: an owner may use it to notice that no consumer is left and shut
   * the ring down (a pipe does), which ends the wait with `ShutDownError`.
   */
  onStall?: () => void;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly byteOffset: number,
    readonly backend: WaitBackend,
  ) {
    this.i32 = new Int32Array(buffer, byteOffset, HEADER_WORDS);
    this.capacity = Atomics.load(this.i32, CAPACITY);
    this.data = new Uint8Array(buffer, byteOffset + HEADER_BYTES, this.capacity);
    this.view = new DataView(buffer, byteOffset + HEADER_BYTES, this.capacity);
    this.maxChunk = this.capacity / 4 - 8;
    this.#maxSize = Atomics.load(this.i32, MAX_SIZE);
  }

  /** Words of the header (a native block allocated for a ring holds them first). */
  static readonly HEADER_WORDS = HEADER_WORDS;
  /** The header words that hold owner ids (the robust locks), for a native block's party table. */
  static readonly LOCK_WORDS: readonly number[] = [TAIL_LOCK, HEAD_LOCK];

  /** Allocates a ring with a data area of `capacity` bytes (a power of two >= 256). */
  static allocate(capacity: number, maxSize: number): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(HEADER_BYTES + capacity);
    Ring.format(sab, 0, capacity, maxSize);
    return sab;
  }

  /** Writes a new ring's header at `byteOffset` of `buffer` (`HEADER_BYTES + capacity` bytes, zeroed). */
  static format(buffer: SharedArrayBuffer, byteOffset: number, capacity: number, maxSize: number): void {
    const i32 = new Int32Array(buffer, byteOffset, HEADER_WORDS);
    i32[CAPACITY] = capacity;
    i32[MAX_SIZE] = maxSize;
  }

  state(): number {
    return Atomics.load(this.i32, STATE);
  }

  /**
   * `PUTS - TAKES`: items in the queue; one low for good after a producer was terminated between
   * publishing an item and counting it, as `count()` clamps (and for a moment after an immediate
   * shutdown races a take).
   */
  private items(): number {
    return (Atomics.load(this.i32, PUTS) - Atomics.load(this.i32, TAKES)) | 0;
  }

  count(): number {
    return this.state() === SHUT_IMMEDIATE ? 0 : Math.max(0, this.items());
  }

  maxSize(): number {
    return this.#maxSize;
  }

  /** Bytes ever written (`TAIL`, u32, wraps): a position to compare with {@link readPosition}. */
  writePosition(): number {
    return Atomics.load(this.i32, TAIL) >>> 0;
  }

  /** Bytes ever read (`HEAD`, u32, wraps): everything written before this position was taken. */
  readPosition(): number {
    return Atomics.load(this.i32, HEAD) >>> 0;
  }

  /**
   * True when an item of `total` bytes fits in the free space right now, however its frames fall
   * (one wrap-around included), so that a put with a deadline of 0 never waits mid-item.
   */
  fitsNow(total: number): boolean {
    const used = ((Atomics.load(this.i32, TAIL) >>> 0) - (Atomics.load(this.i32, HEAD) >>> 0)) >>> 0;
    const frames = Math.max(1, Math.ceil(total / this.maxChunk));
    return this.capacity - used >= total + frames * 16 + this.maxChunk + 16;
  }

  /** True when a put asked to hand items over would hand one of `total` bytes over (see `putAsync`/`putSync`). */
  handsOver(total: number): boolean {
    return total >= HAND_OVER_MIN && nativeHandOverAvailable();
  }

  /**
   * After a consumer took a one-frame item: wakes producers waiting for room only once half the
   * ring is free (a producer that sleeps on a full ring then refills half of it at once, instead
   * of one wake-up per item), and at once in a bounded queue, where a producer may be waiting for
   * a slot. Any frame fits in half the ring, so a waiting producer always gets its room. `tail` is
   * as the consumer read it before taking (a lower bound: at worst one wake-up too many), `head`
   * where it left `HEAD`; neither is read again from the shared line.
   */
  private spaceFreed(tail: number, head: number): void {
    if (this.#maxSize === 0 && ((tail - head) >>> 0) > this.capacity >>> 1) return;
    this.wake(SPACE_SEQ, PRODUCERS);
  }

  /**
   * Moves `HEAD` past a frame `tryGetFrame` took (it holds `HEAD_LOCK`), keeps that position as
   * where this object left it, and wakes producers when room is due (`tail` as it read it).
   */
  #takenTo(tail: number, head: number): void {
    Atomics.store(this.i32, HEAD, head | 0);
    this.#leftHead = head;
    this.spaceFreed(tail, head);
  }

  private wake(seq: number, sleepers: number): void {
    const i32 = this.i32;
    Atomics.add(i32, seq, 1);
    if (Atomics.load(i32, sleepers) <= 0) return;
    // registrations this object's last notify on `seq` covered (see the memory-ordering note)
    const sleeps = Atomics.load(i32, sleepers + SLEEPS_OFFSET);
    if (sleepers === CONSUMERS) {
      if (sleeps === this.#notifiedConsumers) return;
      this.#notifiedConsumers = sleeps;
    } else {
      if (sleeps === this.#notifiedProducers) return;
      this.#notifiedProducers = sleeps;
    }
    this.backend.notify(i32, seq);
  }

  /** Puts one serialized item, blocking this thread while it waits. @throws FullError, ShutDownError. */
  putSync(bytes: Uint8Array, opts: RingPutOptions = {}): void {
    const d = opts.deadline ?? forever;
    driveSync(this, TAIL_LOCK, d, this.put(bytes, d, opts.joinable === true, opts.deferWake, opts.handOver, opts.onCommitted), lockedFull);
  }

  /** Puts one serialized item without blocking the event loop. @throws FullError, ShutDownError, the signal's reason. */
  putAsync(bytes: Uint8Array, opts: RingPutOptions = {}): Promise<void> {
    const d = opts.deadline ?? forever;
    return driveAsync(this, TAIL_LOCK, d, this.put(bytes, d, opts.joinable === true, opts.deferWake, opts.handOver, opts.onCommitted), lockedFull, opts.signal);
  }

  /** Takes one item, decoded by `decode`, blocking this thread while it waits. @throws EmptyError, ShutDownError. */
  getSync<T>(decode: Decode<T>, opts: RingGetOptions = {}): T {
    const d = opts.deadline ?? forever;
    return driveSync(this, HEAD_LOCK, d, this.get(d, decode), lockedEmpty);
  }

  /** Takes one item, decoded by `decode`, without blocking the event loop. @throws EmptyError, ShutDownError, the signal's reason. */
  getAsync<T>(decode: Decode<T>, opts: RingGetOptions = {}): Promise<T> {
    const d = opts.deadline ?? forever;
    return driveAsync(this, HEAD_LOCK, d, this.get(d, decode), lockedEmpty, opts.signal);
  }

  /** Waits until every task is done (JoinableQueue), blocking this thread; false when `deadline` passes first. */
  joinSync(deadline: Deadline = forever): boolean {
    return driveSync(this, null, deadline, this.join(deadline), unreachable);
  }

  /** Waits until every task is done (JoinableQueue); false when `deadline` passes first. */
  joinAsync(deadline: Deadline = forever, signal?: AbortSignal): Promise<boolean> {
    return driveAsync(this, null, deadline, this.join(deadline), unreachable, signal);
  }

  /** True while the ring is open (not shut down). */
  isOpen(): boolean {
    return this.state() === OPEN;
  }

  /**
   * What a waiter for items sleeps on: the `DATA_SEQ` word, the `CONSUMERS` count to register in
   * while asleep (for a `wait()` over many objects), and the backend that sleeps on this memory.
   */
  dataWaiter(): RingWaiter {
    return { i32: this.i32, index: DATA_SEQ, counter: CONSUMERS, backend: this.backend };
  }

  /**
   * What a waiter for room sleeps on: the `SPACE_SEQ` word, and the `PRODUCERS` count to register
   * in while asleep (a sender's backlog waits for room, not for one item: see pipe's outbox.ts),
   * and the backend that sleeps on this memory.
   */
  spaceWaiter(): RingWaiter {
    return { i32: this.i32, index: SPACE_SEQ, counter: PRODUCERS, backend: this.backend };
  }

  /**
   * Writes one serialized item (the caller holds TAIL_LOCK). Waits for a slot (maxSize) and for
   * room; the deadline applies until the first frame is published: after that the item is
   * committed and the rest is streamed whatever the time. With `deferWake`, the caller wakes
   * consumers itself after a batch ({@link wakeConsumers}). With `handOver` (only for a ring no
   * other process reads: a pipe between threads), an item of at least {@link HAND_OVER_MIN} bytes
   * is handed over (see the header) when the addon can, waiting for the slot as for room.
   * @throws FullError on timeout, ShutDownError when shut down.
   */
  private *put(bytes: Uint8Array, deadline: Deadline, joinable: boolean, deferWake = false, handOver = false, onCommitted?: () => void): Generator<Sleep, void, void> {
    const i32 = this.i32;
    const maxSize = this.maxSize();
    for (;;) {
      const seq = Atomics.load(i32, SPACE_SEQ);
      if (this.state() !== OPEN) throw new ShutDownError("the queue is shut down");
      if (maxSize === 0 || this.items() < maxSize) break;
      if (deadline.expired()) throw new FullError("the queue is full");
      yield { index: SPACE_SEQ, value: seq, counter: PRODUCERS, deadline };
    }
    let token = 0;
    let slot = -1;
    if (handOver && this.handsOver(bytes.byteLength)) {
      for (;;) {
        const seq = Atomics.load(i32, SPACE_SEQ);
        if (this.state() !== OPEN) throw new ShutDownError("the queue is shut down");
        slot = this.freeHandOverSlot();
        if (slot >= 0) break;
        if (deadline.expired()) throw new FullError("the queue is full (its last large items are not taken yet)");
        yield { index: SPACE_SEQ, value: seq, counter: PRODUCERS, deadline, slice: PROBE_MS };
      }
      token = nativeHandOver(bytes, this.buffer) ?? 0;
      if (token !== 0) {
        const frame = new Uint8Array(8);
        const view = new DataView(frame.buffer);
        view.setUint32(0, token, true);
        view.setUint32(4, bytes.byteLength, true);
        bytes = frame;
      }
    }
    let off = 0;
    let first = true;
    const total = bytes.byteLength;
    try {
      do {
        const n = Math.min(total - off, this.maxChunk);
        const need = 8 + pad8(n);
        let tail: number;
        for (;;) {
          const seq = Atomics.load(i32, SPACE_SEQ);
          // before the first frame any shutdown refuses the item; after it only an immediate one
          // (whose consumers discard everything) cuts it off
          const state = this.state();
          if (first ? state !== OPEN : state === SHUT_IMMEDIATE) {
            if (!first) this.abandonPartial();
            throw new ShutDownError("the queue is shut down");
          }
          tail = Atomics.load(i32, TAIL) >>> 0;
          const used = (tail - (Atomics.load(i32, HEAD) >>> 0)) >>> 0;
          const free = this.capacity - used;
          const pos = tail & (this.capacity - 1);
          const toEnd = this.capacity - pos;
          if (toEnd < need && free >= toEnd) {
            // not enough room before the end: mark the rest as skipped and start over at 0
            this.view.setUint32(pos, WRAP, true);
            Atomics.store(i32, TAIL, (tail + toEnd) | 0);
            continue;
          }
          if (free >= need) break;
          if (first && deadline.expired()) throw new FullError("the queue is full (no room in its ring)");
          if (!first && this.onStall) {
            this.onStall();
            if (this.state() === SHUT_IMMEDIATE) continue;
          }
          // consumers wake a producer waiting for room only once half the ring is free (spaceFreed),
          // so it also looks again now and then: a smaller room may do, should consumers stop early
          yield { index: SPACE_SEQ, value: seq, counter: PRODUCERS, deadline: first ? deadline : forever, slice: PROBE_MS, soon: !first };
        }
        const pos = tail & (this.capacity - 1);
        const last = off + n === total;
        this.view.setUint32(pos, (first ? FIRST : 0) | (last ? LAST : 0) | (token !== 0 ? HAND_OVER : 0) | n, true);
        if (first) this.view.setUint32(pos + 4, total, true);
        this.data.set(bytes.subarray(off, off + n), pos + 8);
        if (last && joinable) Atomics.add(i32, UNFINISHED, 1);
        Atomics.store(i32, TAIL, (tail + need) | 0);
        if (token !== 0) {
          // published: the consumer owns the block now (it may even have adopted it already, in
          // which case a later producer finds the token unfiled and clears the word)
          Atomics.store(i32, slot, token);
          token = 0;
        }
        // after publishing: a producer terminated in between leaves PUTS one low (room for one
        // more item), never one high (a slot lost for good)
        if (first) {
          Atomics.add(i32, PUTS, 1);
          onCommitted?.();
        }
        // a batch of small items wakes consumers once, after its last item (wakeConsumers)
        if (!(deferWake && last)) this.wake(DATA_SEQ, CONSUMERS);
        off += n;
        first = false;
      } while (off < total);
    } finally {
      // a hand-over frame that was not published (timeout, shutdown, abandoned): free its block
      if (token !== 0) nativeAdopt(token);
    }
  }

  /**
   * Puts a one-frame item at once when the tail lock is free and there is room and a slot; false
   * otherwise (also when the ring is shut down: the general path reports it). Never waits.
   */
  tryPutFrame(bytes: Uint8Array, joinable: boolean, deferWake = false): boolean {
    const i32 = this.i32;
    const n = bytes.byteLength;
    if (n + 8 > this.maxChunk) return false;
    if (Atomics.compareExchange(i32, TAIL_LOCK, 0, this.backend.owner) !== 0) return false;
    try {
      // plain reads: STATE may change at any time (a stale read is a put just before a shutdown),
      // TAIL only under the lock this thread holds (the lock's compare-exchange orders them)
      if (i32[STATE] !== OPEN) return false;
      const maxSize = this.#maxSize;
      if (maxSize !== 0 && this.items() >= maxSize) return false;
      const need = 8 + pad8(n);
      let tail = i32[TAIL] >>> 0;
      let pos = tail & (this.capacity - 1);
      const toEnd = this.capacity - pos;
      // HEAD as last read stands while TAIL is where this object left it (no other producer
      // since; HEAD only grows): the consumers' line is read again only when that is too little
      let free = this.capacity - ((tail - this.#seenHead) >>> 0);
      if (tail !== this.#leftTail || free < (toEnd < need ? toEnd + need : need)) {
        this.#seenHead = Atomics.load(i32, HEAD) >>> 0;
        free = this.capacity - ((tail - this.#seenHead) >>> 0);
      }
      if (toEnd < need) {
        if (free < toEnd + need) return false;
        this.view.setUint32(pos, WRAP, true);
        tail = (tail + toEnd) >>> 0;
        Atomics.store(i32, TAIL, tail | 0);
        pos = 0;
      } else if (free < need) return false;
      this.view.setUint32(pos, FIRST | LAST | n, true);
      this.view.setUint32(pos + 4, n, true);
      this.data.set(bytes, pos + 8);
      if (joinable) Atomics.add(i32, UNFINISHED, 1);
      Atomics.store(i32, TAIL, (tail + need) | 0);
      this.#leftTail = (tail + need) >>> 0;
      // only producers holding TAIL_LOCK write PUTS (readers use Atomics.load)
      i32[PUTS] = (i32[PUTS] + 1) | 0;
      if (!deferWake) this.wake(DATA_SEQ, CONSUMERS);
      return true;
    } finally {
      unlockRobust(i32, TAIL_LOCK, this.backend);
    }
  }

  /**
   * Moves the frames of `batch` into the ring, as many as there is room for now, under one lock,
   * with one publication of `TAIL` and one wake-up for all of them (a run that reaches the end of
   * the ring continues at its start after a `WRAP`). Returns the number of items moved: 0 when
   * none fit, the lock was busy, or the ring is shut down or bounded (a bounded ring takes items
   * one at a time, counting slots: `tryPutFrame`). Items moved this way are not joinable tasks.
   */
  tryPutFrames(batch: FrameBatch): number {
    const i32 = this.i32;
    if (batch.isEmpty() || this.#maxSize !== 0) return 0;
    if (Atomics.compareExchange(i32, TAIL_LOCK, 0, this.backend.owner) !== 0) return 0;
    try {
      if (this.state() !== OPEN) return 0;
      const cap = this.capacity;
      const src = batch.buf;
      const end = batch.end;
      const tail0 = Atomics.load(i32, TAIL) >>> 0;
      this.#seenHead = Atomics.load(i32, HEAD) >>> 0;
      let tail = tail0;
      let free = cap - ((tail - this.#seenHead) >>> 0);
      let p = batch.start;
      let moved = 0;
      while (p < end) {
        const pos = tail & (cap - 1);
        const toEnd = cap - pos;
        // the run of whole frames that fits before the end of the ring and in the room there is
        const limit = Math.min(toEnd, free);
        let q = p;
        for (let size = frameBytes(frameLength(src, q)); q < end && q + size - p <= limit; ) {
          q += size;
          moved++;
          if (q < end) size = frameBytes(frameLength(src, q));
        }
        if (q > p) {
          this.data.set(src.subarray(p, q), pos);
          tail = (tail + (q - p)) >>> 0;
          free -= q - p;
          p = q;
          continue;
        }
        // the next frame does not fit before the end of the ring: skip to its start, if there is
        // room for the skip and the frame
        const size = frameBytes(frameLength(src, p));
        if (toEnd >= size || free < toEnd + size) break;
        this.view.setUint32(pos, WRAP, true);
        tail = (tail + toEnd) >>> 0;
        free -= toEnd;
      }
      if (tail === tail0) return 0;
      Atomics.store(i32, TAIL, tail | 0);
      this.#leftTail = tail;
      i32[PUTS] = (i32[PUTS] + moved) | 0;
      batch.movedTo(p, moved);
      this.wake(DATA_SEQ, CONSUMERS);
      return moved;
    } finally {
      unlockRobust(i32, TAIL_LOCK, this.backend);
    }
  }

  /**
   * Takes a one-frame item at once when the head lock is free and one is there, returning
   * `decode(bytes)` (the bytes are valid only during `decode`); {@link NOT_NOW} otherwise (an
   * empty or shut ring, a multi-frame item, a busy lock: the general path handles those).
   */
  tryGetFrame<T>(decode: Decode<T>): T | typeof NOT_NOW {
    const i32 = this.i32;
    if (Atomics.compareExchange(i32, HEAD_LOCK, 0, this.backend.owner) !== 0) return NOT_NOW;
    try {
      // plain reads, as in tryPutFrame: STATE racy but harmless, HEAD only under the lock held
      if (i32[STATE] === SHUT_IMMEDIATE) return NOT_NOW;
      let head = i32[HEAD] >>> 0;
      // TAIL as last read stands while HEAD is where this object left it (no other consumer or
      // shutdown since; TAIL only grows): the producers' line is read again only when it is used up
      let tail = this.#seenTail;
      if (head !== this.#leftHead || tail === head) tail = this.#seenTail = Atomics.load(i32, TAIL) >>> 0;
      if (tail === head) return NOT_NOW;
      let pos = head & (this.capacity - 1);
      let header = this.view.getUint32(pos, true);
      if (header === WRAP) {
        head = (head + (this.capacity - pos)) >>> 0;
        Atomics.store(i32, HEAD, head | 0);
        this.#leftHead = head;
        if (tail === head) tail = this.#seenTail = Atomics.load(i32, TAIL) >>> 0;
        if (tail === head) return NOT_NOW;
        pos = 0;
        header = this.view.getUint32(0, true);
      }
      if ((header & (FIRST | LAST)) !== (FIRST | LAST)) return NOT_NOW;
      const n = header & LENGTH_MASK;
      const next = (head + 8 + pad8(n)) >>> 0;
      Atomics.add(i32, TAKES, 1);
      if (header & HAND_OVER) {
        const token = this.view.getUint32(pos + 8, true);
        const total = this.view.getUint32(pos + 12, true);
        this.#takenTo(tail, next);
        const bytes = this.takeHandedOver(token, total, decode);
        return bytes === undefined ? NOT_NOW : decode(bytes);
      }
      try {
        return decode(this.data.subarray(pos + 8, pos + 8 + n));
      } finally {
        this.#takenTo(tail, next);
      }
    } finally {
      unlockRobust(i32, HEAD_LOCK, this.backend);
    }
  }

  /**
   * The bytes of hand-over frame `token` (`total` of them): copied into the buffer
   * `decode.assemble` offers, the block freed at once (its memory is reused while still in the
   * cache), or else the block itself as this consumer's buffer. `undefined` if taken already.
   */
  private takeHandedOver(token: number, total: number, decode: Decode<unknown>): Uint8Array | undefined {
    const target = decode.assemble?.(total);
    let bytes: Uint8Array | undefined;
    if (target !== undefined) bytes = nativeTakeInto(token, target) ? target : undefined;
    else {
      const block = nativeAdopt(token);
      if (block !== undefined) bytes = new Uint8Array(block);
    }
    if (bytes === undefined) return undefined;
    for (let w = HANDED; w < HANDED + HAND_OVER_SLOTS; w++) if (Atomics.compareExchange(this.i32, w, token, 0) === token) break;
    // a producer may be waiting for a hand-over slot
    this.wake(SPACE_SEQ, PRODUCERS);
    return bytes;
  }

  /** The word of a free hand-over slot, or -1 (clearing a slot whose token a consumer that ended took). */
  private freeHandOverSlot(): number {
    for (let w = HANDED; w < HANDED + HAND_OVER_SLOTS; w++) {
      const token = Atomics.load(this.i32, w);
      if (token === 0) return w;
      if (!nativeIsFiled(token)) {
        Atomics.compareExchange(this.i32, w, token, 0);
        return w;
      }
    }
    return -1;
  }

  /** Wakes sleeping consumers after puts made with `deferWake`. */
  wakeConsumers(): void {
    this.wake(DATA_SEQ, CONSUMERS);
  }

  /** A producer cut off mid-item by a shutdown: consumers drop partial items on shutdown anyway. */
  private abandonPartial(): void {
    this.wake(DATA_SEQ, CONSUMERS);
  }

  /**
   * Reads one item (the caller holds HEAD_LOCK) and returns `decode(bytes)`. An item in one frame
   * is decoded straight from the ring (the bytes are valid only during `decode`), before its space
   * is given back; a longer one is assembled first, in the buffer `decode.assemble` offers or a
   * fresh one. The deadline applies until the item's first frame is taken.
   * @throws EmptyError on timeout, ShutDownError when shut down and drained.
   */
  private *get<T>(deadline: Deadline, decode: Decode<T>): Generator<Sleep, T, void> {
    const i32 = this.i32;
    let out: Uint8Array | undefined;
    let filled = 0;
    for (;;) {
      const seq = Atomics.load(i32, DATA_SEQ);
      const state = this.state();
      if (state === SHUT_IMMEDIATE) {
        // contents are discarded: skip whatever is in the ring (partial items included)
        Atomics.store(i32, HEAD, Atomics.load(i32, TAIL));
        this.wake(SPACE_SEQ, PRODUCERS);
        throw new ShutDownError("the queue is shut down");
      }
      const tail = Atomics.load(i32, TAIL) >>> 0;
      const head = Atomics.load(i32, HEAD) >>> 0;
      if (tail === head) {
        // mid-item, wait for the rest whatever the state: a committed item is always finished
        if (out === undefined && state === SHUT) throw new ShutDownError("the queue is shut down and empty");
        if (out === undefined) {
          if (deadline.expired()) throw new EmptyError("the queue is empty");
          yield { index: DATA_SEQ, value: seq, counter: CONSUMERS, deadline };
          continue;
        }
        // mid-item: the producer streams the rest, holding the producers' lock throughout, unless
        // it has ended. A free lock mid-item means the same (another producer took the lock over
        // from the ended one and let it go without a new item) once TAIL is seen unchanged after
        // it: a producer publishes its last frame before it unlocks
        const producer = robustHolder(i32, TAIL_LOCK);
        if (producer === 0 ? Atomics.load(i32, TAIL) >>> 0 === tail : this.backend.ownerEnded(producer)) {
          out = undefined;
          continue;
        }
        yield { index: DATA_SEQ, value: seq, counter: CONSUMERS, deadline: new Deadline(PROBE_MS), soon: true };
        continue;
      }
      const pos = head & (this.capacity - 1);
      const header = this.view.getUint32(pos, true);
      if (header === WRAP) {
        Atomics.store(i32, HEAD, (head + (this.capacity - pos)) | 0);
        continue;
      }
      const n = header & LENGTH_MASK;
      const p = pos + 8;
      const size = 8 + pad8(n);
      if (header & FIRST) {
        const total = this.view.getUint32(pos + 4, true);
        Atomics.add(i32, TAKES, 1);
        if (header & HAND_OVER) {
          const token = this.view.getUint32(p, true);
          const handed = this.view.getUint32(p + 4, true);
          Atomics.store(i32, HEAD, (head + size) | 0);
          this.spaceFreed(tail, head + size);
          const bytes = this.takeHandedOver(token, handed, decode);
          // undefined: a consumer that ended before moving HEAD took it (the item is lost with it)
          if (bytes === undefined) continue;
          return decode(bytes);
        }
        if (header & LAST) {
          // the common case: decode in place, then give the space back (also if decoding throws)
          try {
            return decode(this.data.subarray(p, p + n));
          } finally {
            Atomics.store(i32, HEAD, (head + size) | 0);
            this.spaceFreed(tail, head + size);
          }
        }
        // a first frame while assembling means the producer of the partial item was cut off
        // every byte is written below: skip zero-filling a possibly large buffer
        out = decode.assemble?.(total) ?? allocLarge(total);
        filled = 0;
      } else if (out === undefined) {
        // the tail of an item whose start was discarded: skip it
        Atomics.store(i32, HEAD, (head + size) | 0);
        continue;
      }
      out.set(this.data.subarray(p, p + n), filled);
      filled += n;
      Atomics.store(i32, HEAD, (head + size) | 0);
      if (header & LAST) {
        // a slot (maxSize) and room are free now
        this.wake(SPACE_SEQ, PRODUCERS);
        return decode(out);
      }
      this.wake(SPACE_SEQ, PRODUCERS);
    }
  }

  /** Shuts the queue down for every handle (see Queue.shutdown). */
  shutdown(immediate: boolean): void {
    const i32 = this.i32;
    Atomics.store(i32, STATE, immediate ? SHUT_IMMEDIATE : Math.max(SHUT, Atomics.load(i32, STATE)));
    if (immediate) {
      // discarded items count as done
      const discarded = Math.max(0, this.items());
      Atomics.add(i32, TAKES, discarded);
      for (;;) {
        const u = Atomics.load(i32, UNFINISHED);
        const next = Math.max(0, u - discarded);
        if (Atomics.compareExchange(i32, UNFINISHED, u, next) === u) break;
      }
      this.wakeJoin();
    }
    Atomics.add(i32, DATA_SEQ, 1);
    Atomics.add(i32, SPACE_SEQ, 1);
    this.backend.notify(i32, DATA_SEQ);
    this.backend.notify(i32, SPACE_SEQ);
  }

  /** JoinableQueue: one task is done. @returns false when there was none to finish. */
  taskDone(): boolean {
    const i32 = this.i32;
    for (;;) {
      const u = Atomics.load(i32, UNFINISHED);
      if (u <= 0) return false;
      if (Atomics.compareExchange(i32, UNFINISHED, u, u - 1) === u) {
        if (u === 1) this.wakeJoin();
        return true;
      }
    }
  }

  private wakeJoin(): void {
    Atomics.add(this.i32, JOIN_SEQ, 1);
    this.backend.notify(this.i32, JOIN_SEQ);
  }

  /** Waits until every task is done. */
  private *join(deadline: Deadline): Generator<Sleep, boolean, void> {
    for (;;) {
      const seq = Atomics.load(this.i32, JOIN_SEQ);
      if (Atomics.load(this.i32, UNFINISHED) <= 0) return true;
      if (deadline.expired()) return false;
      yield { index: JOIN_SEQ, value: seq, counter: -1, deadline };
    }
  }
}

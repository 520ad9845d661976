/**
 * The shared memory of one pipe: who holds each end, and the rings its messages travel through.
 * One SharedArrayBuffer per pipe:
 *
 * | bytes / word | who writes | meaning |
 * |---|---|---|
 * | word 0 `CHANGES` | whoever releases a hold or closes an end | bumped on every such change; relays sleep on it (notified only in a `SharedArrayBuffer`: a native pipe has no relays) |
 * | word 1 `DUPLEX` | constructor | 1 duplex, 0 one-way |
 * | words 2-3 `REFS` | holders of end 0 / end 1 | live copies of the end (sum of its slot counts) |
 * | words 4-5 `CLOSED` | the last holder (or whoever finds the holders gone) | 1 once the end is closed for good |
 * | word 6 `ERROR_LEN` | a relay whose socket failed | bytes of the error record below, 0 = none |
 * | word 7 `BRIDGED` | a far relay | 1 when the ring an end reads is filled by a relay on demand |
 * | word 8 `DEMAND` | readers of a bridged pipe | bumped when a reader finds nothing to read; the far relay sleeps on it |
 * | word 9 `PEER` | whoever makes the pipe, before any reader | 1 when its messages come from a network peer (`Listener`/`Client`): decoded as untrusted data |
 * | word 10 `MAX_MESSAGE` | whoever makes the pipe, before any holder sees it | largest message a sender may send, in bytes (u32), 0 = no limit |
 * | words 11-12 `SENT` | the relay holding end 0 / end 1 (bridged and peer pipes) | the read position of the ring that end reads up to which every message went to the socket and the OS took it; `drain()` waits on it |
 * | words 16-143 | holders | per end, 32 slots of (owner id, copies held by that owner) |
 * | bytes 576-1599 | a relay whose socket failed | the error as UTF-8 JSON `{ name, message }` |
 * | 1600.. | | ring 0, then ring 1 (duplex only): core's Ring, each `HEADER_BYTES + ringSize` |
 *
 * Which ring an end writes and reads: duplex, end e writes ring e and reads ring 1 - e; one-way
 * (`[reader, writer]` as in Python), end 1 writes ring 0 and end 0 reads it.
 *
 * Where the memory is: a `SharedArrayBuffer` (threads of one process use it; an end handed to
 * another process is relayed, relay.ts), or, where `@ipc/native` is loaded, a native block that
 * other processes map (core's native-memory.ts, followed by the block's party table): every end,
 * in any thread of any process, then reads and writes the rings itself, with no relay. Owner ids
 * in the slots are the memory's own (`backend.owner`: the isolate id in a `SharedArrayBuffer`, an
 * entry of the party table in a native block), and so is their liveness (`backend.ownerEnded`: a
 * thread of a native block's party also ends with its process). Large messages are handed over
 * (core's ring.ts) only in a `SharedArrayBuffer`, whose rings no other process reads.
 *
 * An end is closed for good when its last copy is released, or when every owner still holding a
 * copy has ended (a thread, or a process): its write ring is then shut down
 * (the reader drains it and gets EOF) and its read ring shut down immediately (the writer's next
 * send fails with BrokenPipeError), once, under a compare-exchange of `CLOSED`.
 *
 * Memory ordering: every word is read and written with `Atomics`. A copy in flight (a handle
 * sent to another thread or process and not yet revived) is counted on its sender's slot until
 * the receiver has counted its own, so `REFS` never passes through 0 during a hand-over.
 */
import { IpcError } from "@ipc/core";
import { checkInt, Deadline, HEADER_BYTES, releaseNativeDescriptor, Ring, tryAllocateNativeWords, type NativeWords, type WaitBackend } from "@ipc/core/internal";

const CHANGES = 0;
const DUPLEX = 1;
const REFS = 2;
const CLOSED = 4;
const ERROR_LEN = 6;
const BRIDGED = 7;
const DEMAND = 8;
const PEER = 9;
const MAX_MESSAGE = 10;
const SENT = 11;
const SLOTS_AT = 16;
const SLOTS = 32;
const ERROR_AT = 576;
const ERROR_MAX = 1024;
/** Bytes before the first ring. */
const CONTROL_BYTES = 1600;

/** How often a long wait checks whether the other end's holders are still alive (ms). */
export const PROBE_MS = 200;

/** The part of a wait until `deadline` to sleep before the next liveness check. */
export function probeSlice(deadline: Deadline): Deadline {
  return deadline.remaining() > PROBE_MS ? new Deadline(PROBE_MS) : deadline;
}

/** Checks a `maxMessageSize` option: bytes, 1 to 4 GiB - 1; 0 (none) when it is undefined. */
export function checkMaxMessageSize(value: unknown): number {
  return value === undefined ? 0 : checkInt(value, "maxMessageSize", 1, 0xffffffff);
}

/** Default bytes of each direction's ring. */
export const DEFAULT_PIPE_RING = 256 * 1024;

/** The shared state of one pipe, as seen from one isolate. */
export class Channel {
  readonly i32: Int32Array;
  readonly duplex: boolean;
  readonly rings: Ring[];

  /**
   * @param native the native block the pipe lives in (its `buffer` and `backend`), when it is one:
   * an end then travels to another process as that block (connection-state.ts).
   */
  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly backend: WaitBackend,
    readonly native?: NativeWords,
  ) {
    this.i32 = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.duplex = Atomics.load(this.i32, DUPLEX) === 1;
    this.rings = [new Ring(buffer, CONTROL_BYTES, backend)];
    if (this.duplex) this.rings.push(new Ring(buffer, CONTROL_BYTES + HEADER_BYTES + this.rings[0].capacity, backend));
    // a writer stalled mid-message (a sync send waits in this thread, with no event loop to notice
    // anything) looks at the reading end: when no holder of it is alive the end closes, shutting
    // the ring down, and the send fails with BrokenPipeError instead of waiting forever
    for (const e of [0, 1]) {
      const ring = this.readRing(e);
      if (ring) ring.onStall = () => void this.alive(e);
    }
  }

  /** Allocates the memory of a new pipe in a `SharedArrayBuffer` (no holders yet). */
  static allocate(duplex: boolean, ringSize: number): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(Channel.#bytes(duplex, ringSize));
    Channel.#format(sab, duplex, ringSize);
    return sab;
  }

  /**
   * A new pipe (no holders yet) in a native block other processes can map, or `undefined` when
   * none can be had (no addon, `IPC_NATIVE=0`, or out of mappings): then use {@link allocate}.
   */
  static allocateNative(duplex: boolean, ringSize: number): Channel | undefined {
    const rings = duplex ? 2 : 1;
    // the words that may name a party (checked before the block re-uses an ended party's entry)
    const ownerWords: number[] = [];
    for (let k = 0; k < 2 * SLOTS; k++) ownerWords.push(SLOTS_AT + 2 * k);
    for (let r = 0; r < rings; r++) for (const w of Ring.LOCK_WORDS) ownerWords.push(Channel.#ringAt(r, ringSize) / 4 + w);
    const words = tryAllocateNativeWords(Channel.#bytes(duplex, ringSize), CONTROL_BYTES / 4, ownerWords);
    if (!words) return undefined;
    Channel.#format(words.buffer, duplex, ringSize);
    return new Channel(words.buffer, words.backend, words);
  }

  /** Byte offset of ring `r`. */
  static #ringAt(r: number, ringSize: number): number {
    return CONTROL_BYTES + r * (HEADER_BYTES + ringSize);
  }

  static #bytes(duplex: boolean, ringSize: number): number {
    return Channel.#ringAt(duplex ? 2 : 1, ringSize);
  }

  static #format(buffer: SharedArrayBuffer, duplex: boolean, ringSize: number): void {
    Atomics.store(new Int32Array(buffer, 0, CONTROL_BYTES / 4), DUPLEX, duplex ? 1 : 0);
    for (let r = 0; r < (duplex ? 2 : 1); r++) Ring.format(buffer, Channel.#ringAt(r, ringSize), ringSize, 0);
  }

  /** The owner id of this thread in this pipe's memory. */
  get owner(): number {
    return this.backend.owner;
  }

  /** True when a large message may be handed over (a ring in a native block may be read by another process). */
  get handsOver(): boolean {
    return this.native === undefined;
  }

  /** The ring end `e` writes, if it may write. */
  writeRing(e: number): Ring | undefined {
    return this.duplex ? this.rings[e] : e === 1 ? this.rings[0] : undefined;
  }

  /** The ring end `e` reads, if it may read. */
  readRing(e: number): Ring | undefined {
    return this.duplex ? this.rings[1 - e] : e === 0 ? this.rings[0] : undefined;
  }

  private slot(e: number, k: number): number {
    return SLOTS_AT + (e * SLOTS + k) * 2;
  }

  /** Counts one more copy of end `e` held by `owner` (this thread by default). */
  hold(e: number, owner: number = this.backend.owner): void {
    const i32 = this.i32;
    if (Atomics.load(i32, CLOSED + e) === 1) throw new IpcError("this end of the pipe was closed by all its holders");
    let free = -1;
    for (let k = 0; k < SLOTS; k++) {
      const s = this.slot(e, k);
      const o = Atomics.load(i32, s);
      if (o === owner) {
        Atomics.add(i32, s + 1, 1);
        Atomics.add(i32, REFS + e, 1);
        return;
      }
      if (free < 0 && (o === 0 || this.backend.ownerEnded(o))) free = k;
    }
    for (let k = free < 0 ? SLOTS : free; k < SLOTS; k++) {
      const s = this.slot(e, k);
      const o = Atomics.load(i32, s);
      if ((o === 0 || this.backend.ownerEnded(o)) && Atomics.compareExchange(i32, s, o, owner) === o) {
        // a slot taken over from an ended thread: its copies no longer count
        const stale = Atomics.exchange(i32, s + 1, 1);
        Atomics.add(i32, REFS + e, 1 - (o === 0 ? 0 : stale));
        return;
      }
    }
    throw new IpcError(`more than ${SLOTS} threads hold one end of this pipe`);
  }

  /**
   * Counts this isolate's copy of end `e` and releases the in-flight copy owner `from` counted
   * when it sent the end (see the module comment): `REFS` never passes through 0 on the way.
   */
  takeOver(e: number, from: number): void {
    this.hold(e);
    this.release(e, from);
  }

  /** Releases `n` copies of end `e` held by `owner`; the last one closes the end for good. */
  release(e: number, owner: number = this.backend.owner, n = 1): void {
    const i32 = this.i32;
    for (let k = 0; k < SLOTS; k++) {
      const s = this.slot(e, k);
      if (Atomics.load(i32, s) !== owner) continue;
      Atomics.sub(i32, s + 1, n);
      const left = Atomics.sub(i32, REFS + e, n) - n;
      if (left <= 0) this.closeEnd(e);
      else this.changed();
      return;
    }
  }

  /** True while end `e` has a holder that is alive; closes the end when it finds none. */
  alive(e: number): boolean {
    const i32 = this.i32;
    if (Atomics.load(i32, CLOSED + e) === 1) return false;
    if (Atomics.load(i32, REFS + e) <= 0) {
      this.closeEnd(e);
      return false;
    }
    for (let k = 0; k < SLOTS; k++) {
      const s = this.slot(e, k);
      const o = Atomics.load(i32, s);
      if (o !== 0 && Atomics.load(i32, s + 1) > 0 && !this.backend.ownerEnded(o)) return true;
    }
    this.closeEnd(e);
    return false;
  }

  /** True once end `e` is closed for good. */
  isClosed(e: number): boolean {
    return Atomics.load(this.i32, CLOSED + e) === 1;
  }

  /** Closes end `e` for every holder (once): its write ring drains to EOF, its read ring refuses writers. */
  closeEnd(e: number): void {
    if (Atomics.compareExchange(this.i32, CLOSED + e, 0, 1) !== 0) return;
    this.writeRing(e)?.shutdown(false);
    this.readRing(e)?.shutdown(true);
    this.changed();
    // both ends closed for good: no handle can name the pipe any more, so its descriptor here
    // closes now (a loop making pipes no longer runs the process out of descriptors before a
    // collection); the memory stays mapped for this isolate's objects until they are collected
    if (this.native && this.isClosed(1 - e)) releaseNativeDescriptor(this.native);
  }

  /** The sequence word relays sleep on. */
  get changes(): number {
    return Atomics.load(this.i32, CHANGES);
  }

  private changed(): void {
    Atomics.add(this.i32, CHANGES, 1);
    // only relays sleep on it, and a pipe in a native block has none (a futex wake saved per change)
    if (!this.native) this.backend.notify(this.i32, CHANGES);
  }

  /** Index of the `CHANGES` word (for waits). */
  static readonly CHANGES = CHANGES;
  /** Index of the `DEMAND` word (for waits). */
  static readonly DEMAND = DEMAND;

  /** Marks this pipe as filled on demand by a far relay (see relay.ts). */
  setBridged(): void {
    Atomics.store(this.i32, BRIDGED, 1);
  }

  /** Marks this pipe's messages as coming from a network peer (before any reader sees it). */
  setPeer(): void {
    Atomics.store(this.i32, PEER, 1);
  }

  /** True when this pipe's messages come from a network peer: no handle in them is revived. */
  get peer(): boolean {
    return Atomics.load(this.i32, PEER) === 1;
  }

  /** Sets the largest message senders may send (0: no limit), before any holder sees the pipe. */
  setMaxMessage(bytes: number): void {
    Atomics.store(this.i32, MAX_MESSAGE, bytes | 0);
  }

  /** The largest message senders may send, in bytes; 0 = no limit. */
  get maxMessage(): number {
    return Atomics.load(this.i32, MAX_MESSAGE) >>> 0;
  }

  /** The relay holding end `e` handed every message up to read position `position` of its ring to the OS. */
  markSent(e: number, position: number): void {
    Atomics.store(this.i32, SENT + e, position | 0);
    this.backend.notify(this.i32, SENT + e);
  }

  /**
   * Resolves when what end `e` has written so far left this process: at once for a pipe whose
   * two ends are both in memory (a message in the ring is delivered), and for a bridged or peer
   * pipe (its other end is a relay in this process's broker thread) once the relay handed it to
   * the OS, or when the relay is gone (nothing more can go out).
   */
  async sentOut(e: number): Promise<void> {
    const i32 = this.i32;
    const ring = this.writeRing(e);
    if (!ring || (Atomics.load(i32, BRIDGED) === 0 && !this.peer)) return;
    const r = 1 - e;
    const target = ring.writePosition();
    for (;;) {
      const sent = Atomics.load(i32, SENT + r);
      if (((sent - target) | 0) >= 0 || !this.alive(r)) return;
      await this.backend.waitAsync(i32, SENT + r, sent, PROBE_MS);
    }
  }

  /** A reader found nothing to read: asks a far relay for more, if there is one. */
  wantMore(): void {
    if (Atomics.load(this.i32, BRIDGED) === 0) return;
    Atomics.add(this.i32, DEMAND, 1);
    this.backend.notify(this.i32, DEMAND);
  }

  /** Records why the connection behind this pipe failed (first error wins). */
  setError(error: Error): void {
    const json = Buffer.from(JSON.stringify({ name: error.name, message: error.message }).slice(0, ERROR_MAX / 2));
    const bytes = new Uint8Array(this.buffer, ERROR_AT, ERROR_MAX);
    if (Atomics.load(this.i32, ERROR_LEN) !== 0) return;
    bytes.set(json.subarray(0, ERROR_MAX));
    Atomics.store(this.i32, ERROR_LEN, Math.min(json.byteLength, ERROR_MAX));
  }

  /** The recorded failure, if any. */
  error(): { name: string; message: string } | undefined {
    const n = Atomics.load(this.i32, ERROR_LEN);
    if (n === 0) return undefined;
    try {
      return JSON.parse(Buffer.from(new Uint8Array(this.buffer, ERROR_AT, n)).toString("utf8")) as { name: string; message: string };
    } catch {
      return { name: "IpcError", message: "the connection failed" };
    }
  }
}

/**
 * Shared memory that other processes can map, through the optional `@ipc/native` addon (Linux):
 * a primitive allocated here works directly between processes (no broker round trip), with the
 * same code as in a `SharedArrayBuffer`, because the mapping *is* a `SharedArrayBuffer` and its
 * {@link WaitBackend} sleeps on a cross-process futex.
 *
 * A block is the primitive's bytes, then a party table that gives every thread using the block,
 * in any process, an owner id for its lock words (thread ids repeat across processes):
 *
 * | word (from `partyOffset`, the last `PARTY_TABLE_BYTES` of the mapping) | who writes | meaning |
 * |---|---|---|
 * | 0 | the creator | number of entries `N` |
 * | 1 | the creator | `PARTY_MAGIC`: @ipc/native's `markThreadEnded` looks for it |
 * | 2 `IN_FLIGHT` | a sender of a handle to another process (+1), its receiver once it mapped the block (-1) | handles on their way that name a holder's descriptor |
 * | 3 `STAMP` | the creator | a random non-zero number the handles carry: a receiver refuses a different block at the path |
 * | 4 + 4k | a thread registering | entry k: 0 free, 1 taken, 2 being filled |
 * | 5 + 4k | that thread | its process id |
 * | 6 + 4k | that thread | its `threadId` |
 * | 7 + 4k | that thread (0), then its process when the thread ends (1) | ended |
 *
 * Owner id of entry k is `k + 1`. An entry's party has ended when its process has exited (or is a
 * zombie), or its thread has ended: marked in the entry by the thread's process (for the other
 * processes), or known from this process's liveness table. A full table is compacted by re-using
 * entries of ended parties that no lock word of the block names.
 *
 * Which memory a handle may make a process map: a block reaches another process as the path
 * `/proc/<pid>/fd/<fd>` of a holder. The addon creates every block as a memfd named `ipc-native`
 * with its size sealed (`F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL`), and `open` maps a path only
 * when its descriptor is such a memfd (seals read with `F_GET_SEALS`, which fails for any other
 * file; the name read back from `/proc/self/fd`; the exact size), so a forged handle naming an
 * ordinary file is refused before anything is mapped. The seals also keep a holder from shrinking
 * the memory under another process's mapping. Handles from network peers are never revived at all
 * (handle.ts).
 *
 * When a block is released: a process that handed a block to another keeps it mapped (its
 * descriptor open, so the path stays valid) while handles naming it are on their way
 * (`IN_FLIGHT` > 0), checked every second; after that only its own users keep it, and it is
 * unmapped and its descriptor closed when they are collected. A descriptor number is re-used
 * afterwards, so a handle carries the block's `STAMP` and a receiver that maps another block at
 * that path (a handle deserialized twice, the first use having released the count) gets a clear
 * error instead of the wrong memory.
 *
 * Memory ordering: an entry is claimed with a compare-exchange 0 → 2 (or 1 → 2 to re-use it),
 * filled with `Atomics.store`, then published with `Atomics.store(state, 1)`; its owner id is
 * written into a lock word only after that, so whoever reads an owner id from a lock word sees a
 * filled entry. Every other word follows the primitive's own ordering rules; the futex compares
 * the word atomically in the kernel, so `wait`/`notify` keep the Atomics semantics.
 */
import { readFileSync } from "node:fs";
import { lazyRequire } from "../lazy-require.js";
import { threadId } from "node:worker_threads";
import { IpcError, SerializationError } from "../errors/errors.js";
import { abortReason } from "../errors/validate.js";
import { onThreadEnded, ownerEnded as threadEnded } from "./liveness.js";
import type { SharedWords } from "./shared-words.js";
import type { WaitBackend, WaitResult } from "./wait-backend.js";
import { beforeBlock } from "./before-block.js";

/** The functions of `@ipc/native` this module uses (see that package). */
interface Binding {
  create(size: number): [SharedArrayBuffer, number, number];
  open(path: string, size: number): [SharedArrayBuffer, number, number];
  wait(id: number, byteOffset: number, expected: number, timeoutMs: number): 0 | 1 | 2;
  wake(id: number, byteOffset: number, count: number): number;
  waitAsync(id: number, byteOffset: number, expected: number, timeoutMs: number, done: (r: 0 | 1 | 2) => void): number | undefined;
  cancelWait?(waitId: number): void;
  releaseDescriptor?(id: number): boolean;
  markThreadEnded?(threadId: number): number;
  allocUnsafe?(size: number): ArrayBuffer;
  handOver?(bytes: Uint8Array, ring: SharedArrayBuffer): number;
  adopt?(token: number): ArrayBuffer | undefined;
  isFiled?(token: number): boolean;
  takeInto?(token: number, target: Uint8Array): boolean;
  setParentDeathSignal?(signal: number): number;
  shmOpen?(name: string, create: boolean, size: number): [SharedArrayBuffer, number, number, number];
  shmUnlink?(name: string): void;
  yieldCpu?(): void;
  watchThreadEnd?(table: SharedArrayBuffer, threadId: number): void;
}

let loaded: { binding?: Binding; error?: unknown } | undefined;

/** Loads the addon on first use (startup paths that never share memory with a process skip it). */
function load(): { binding?: Binding; error?: unknown } {
  if (loaded) return loaded;
  try {
    const mod = lazyRequire(import.meta.url)("@ipc/native") as { native?: Binding; nativeLoadError?: unknown };
    loaded = mod.native ? { binding: mod.native } : { error: mod.nativeLoadError };
  } catch (error) {
    loaded = { error };
  }
  return loaded;
}

/**
 * Records, in every @ipc block this process maps, that its thread `threadId` has ended, so that
 * other processes can take over the queue locks it held (called with the liveness table's own
 * record). Loads the addon if this isolate has not: another thread may have mapped blocks.
 */
export function markNativeThreadEnded(threadId: number): void {
  load().binding?.markThreadEnded?.(threadId);
}
onThreadEnded(markNativeThreadEnded);

/**
 * A plain `ArrayBuffer` of `size` uninitialized bytes from @ipc/native's huge-page regions, or
 * `undefined` without the addon (see large-buffer.ts). Every byte must be written before the
 * buffer reaches user code.
 */
export function nativeAllocUnsafe(size: number): ArrayBuffer | undefined {
  return load().binding?.allocUnsafe?.(size);
}

/**
 * Copies `bytes` into a native block filed under a token another thread of this process can
 * {@link nativeAdopt} (the block is freed if `ring` is collected first), or `undefined` without
 * an addon that can (see ring.ts, hand-over frames).
 */
export function nativeHandOver(bytes: Uint8Array, ring: SharedArrayBuffer): number | undefined {
  return load().binding?.handOver?.(bytes, ring);
}

/** The block filed under `token` as this thread's own buffer; `undefined` if already adopted. */
export function nativeAdopt(token: number): ArrayBuffer | undefined {
  return load().binding?.adopt?.(token);
}

/** Copies the block filed under `token` into `target` (its exact length) and frees it; false if already adopted. */
export function nativeTakeInto(token: number, target: Uint8Array): boolean {
  return load().binding?.takeInto?.(token, target) === true;
}

/** True while the block filed under `token` waits to be adopted. */
export function nativeIsFiled(token: number): boolean {
  return load().binding?.isFiled?.(token) === true;
}

/**
 * Has this worker thread record its own end in `table` (the liveness table) and in the party
 * tables of native blocks as its environment is torn down (a return, an uncaught error,
 * `terminate()`), so that the locks it held can be taken over by a parent blocked in a wait, which
 * cannot hear of the end from its event loop. Nothing without the addon.
 */
export function nativeWatchThreadEnd(table: Int32Array): void {
  load().binding?.watchThreadEnd?.(table.buffer as SharedArrayBuffer, threadId);
}

/**
 * The addon's `sched_yield`, or `undefined` without the addon (or with one built before it had
 * it): busy-waits call it between looks (ring/adaptive-spin.ts).
 */
export function nativeYieldCpu(): (() => void) | undefined {
  return load().binding?.yieldCpu;
}

/**
 * Has the kernel send `signal` to this process when the thread that forked it ends (Linux
 * `PR_SET_PDEATHSIG`) and returns the parent pid as of right after; `undefined` without the addon.
 */
export function nativeParentDeathSignal(signal: number): number | undefined {
  return load().binding?.setParentDeathSignal?.(signal);
}

/**
 * Opens (or, with `create`, makes) the named shared memory `name` (a file under /dev/shm, as
 * POSIX `shm_open` names it) and maps it: its buffer and its size. Errors carry a `code`:
 * `EEXIST`, `ENOENT`, `EINVAL`. @throws IpcError without an addon that can.
 */
export function nativeShmOpen(name: string, create: boolean, size: number): { buffer: SharedArrayBuffer; size: number } {
  const b = requireBinding();
  if (!b.shmOpen) throw new IpcError("this @ipc/native has no named shared memory: rebuild it");
  try {
    const [buffer, , , actual] = b.shmOpen(name, create, size);
    return { buffer, size: actual };
  } catch (e) {
    throw withCode(e);
  }
}

/** Removes the name of shared memory `name` (mappings stay valid). Errors carry a `code` (`ENOENT`). */
export function nativeShmUnlink(name: string): void {
  const b = requireBinding();
  if (!b.shmUnlink) throw new IpcError("this @ipc/native has no named shared memory: rebuild it");
  try {
    b.shmUnlink(name);
  } catch (e) {
    throw withCode(e);
  }
}

/** The addon's `CODE: message` errors as errors with a `code`, as Node's own. */
function withCode(e: unknown): unknown {
  const m = /^(E[A-Z]+): (.*)$/s.exec((e as Error)?.message ?? "");
  if (!m) return e;
  return Object.assign(new Error(m[2]), { code: m[1] });
}

/** True when this process's addon can hand blocks over ({@link nativeHandOver}). */
export function nativeHandOverAvailable(): boolean {
  return load().binding?.handOver !== undefined;
}

/** The addon, once a native block exists (a backend is only made for one). */
const bound = (): Binding => loaded!.binding!;

/** True when primitives can be placed in memory shared with other processes. */
export function nativeAvailable(): boolean {
  return load().binding !== undefined;
}

let noticed = false;

/**
 * Says once per process, on stderr, that `what` is handed to a child process without shared memory
 * (so every call on it goes through this process's broker), why @ipc/native is not loaded, and how
 * to fix or silence it. Silent when the program chose the broker (`IPC_NATIVE=0`) or asked for
 * quiet (`IPC_QUIET=1`).
 */
export function noticeNoSharedMemory(what: string): void {
  if (noticed || process.env.IPC_NATIVE === "0" || process.env.IPC_QUIET === "1") return;
  const { binding, error } = load();
  if (binding) return; // loaded: this object was simply made outside its memory
  noticed = true;
  const why = error instanceof Error ? error.message : String(error ?? "unknown reason");
  process.stderr.write(
    `@ipc: ${what} is handed to a child process without shared memory, because @ipc/native is not loaded (${why}). ` +
      "Every call on it now goes through this process's broker, about 100x slower. " +
      "Fix: install @ipc/native (it carries binaries for Linux x64 and arm64, Node 20-26; elsewhere build it: node node_modules/@ipc/native/scripts/build-addon.mjs). " +
      "Silence: IPC_NATIVE=0 (use the broker on purpose) or IPC_QUIET=1.\n",
  );
}

function requireBinding(): Binding {
  const { binding, error } = load();
  if (!binding) {
    throw new IpcError("this process cannot map shared memory of another process: @ipc/native is not loaded", { cause: error });
  }
  return binding;
}

const ENTRIES = 256;
const PARTY_MAGIC = 0x49504354;
/** Header word `IN_FLIGHT` (see the layout table). */
const IN_FLIGHT = 2;
/** Header word `STAMP` (see the layout table). */
const STAMP = 3;
const TABLE_WORDS = 4 + 4 * ENTRIES;
/** Bytes a block spends on its party table. */
export const PARTY_TABLE_BYTES = TABLE_WORDS * 4;
const RESULTS: readonly WaitResult[] = ["ok", "not-equal", "timed-out"];
const OWNER_MASK = 0x3fffffff;
/** Longest uninterrupted sync sleep: how soon `worker.terminate()` reaches a sleeping thread. */
const SYNC_SLICE_MS = 20;

/** What identifies a native block within its process, and how to map it from another. */
export interface NativeBlock {
  /** The mapping's id in this process (@ipc/native). */
  readonly id: number;
  /** The mapping's file descriptor in this process. */
  readonly fd: number;
  /** Bytes of the whole mapping. */
  readonly size: number;
  /** Byte offset of the party table. */
  readonly partyOffset: number;
  /**
   * Word indexes (from the block start) that may hold owner ids, checked before an entry is
   * re-used; `"all"` for a block shared by many primitives (every word before the table is checked).
   */
  readonly ownerWords: readonly number[] | "all";
  /** The block's `STAMP` (see the layout table). */
  readonly stamp: number;
}

/**
 * Whether process `pid` has exited (a zombie counts as exited). Only a definite answer says so: a
 * live process judged ended has its lock taken over and, in a ring, its half-written item
 * dropped, so a `/proc` read that fails for any other reason than the process being gone (this
 * process out of descriptors, the system out of memory) falls back to `kill(pid, 0)`, which needs
 * no descriptor and says "ended" only when no such process exists.
 */
export function processEnded(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch (k) {
      return (k as NodeJS.ErrnoException).code === "ESRCH";
    }
  }
  const state = stat.charAt(stat.lastIndexOf(")") + 2);
  return state === "Z" || state === "X";
}

/** The wait backend of one native block, in one isolate. */
class NativeBackend implements WaitBackend {
  readonly #table: Int32Array;
  readonly #words: Int32Array;
  #owner = 0;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly block: NativeBlock,
  ) {
    this.#table = new Int32Array(buffer, block.partyOffset, TABLE_WORDS);
    this.#words = new Int32Array(buffer, 0, block.partyOffset / 4);
  }

  wait(i32: Int32Array, index: number, expected: number, timeout: number): WaitResult {
    // A thread blocked in a futex cannot be terminated (V8 stops JS only when JS runs), so a long
    // sleep returns to JS every SYNC_SLICE_MS as a spurious wake-up, which every caller tolerates.
    // (and one cut short so that this thread's buffered sends move on: memory/before-block.ts)
    const t = Math.min(beforeBlock(timeout), SYNC_SLICE_MS);
    const r = RESULTS[bound().wait(this.block.id, i32.byteOffset + index * 4, expected, t)];
    return r === "timed-out" && timeout > t ? "ok" : r;
  }

  waitAsync(i32: Int32Array, index: number, expected: number, timeout: number, signal?: AbortSignal): Promise<WaitResult> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const offset = i32.byteOffset + index * 4;
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const binding = bound();
      const waitId = binding.waitAsync(this.block.id, offset, expected, timeout, (r) => {
        if (onAbort) signal!.removeEventListener("abort", onAbort);
        resolve(RESULTS[r]);
      });
      if (signal) {
        onAbort = () => {
          reject(abortReason(signal));
          // the wait is dropped at once (a wake alone can be lost: then it kept the loop alive, and
          // a closed queue's aborted get left a process running); every caller tolerates the wake
          if (binding.cancelWait && waitId !== undefined) binding.cancelWait(waitId);
          // and frees a waiter thread that sleeps for it alone (no futex_waitv), as before
          binding.wake(this.block.id, offset, Infinity);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  notify(i32: Int32Array, index: number, count = Infinity): number {
    return bound().wake(this.block.id, i32.byteOffset + index * 4, count);
  }

  get owner(): number {
    return this.#owner || (this.#owner = this.#register());
  }

  ownerEnded(owner: number): boolean {
    const party = this.#party(owner);
    if (!party) return false;
    if (party.ended) return true;
    return party.pid === process.pid ? threadEnded(party.threadId + 1) : processEnded(party.pid);
  }

  ownerProcessEnded(owner: number): boolean {
    const party = this.#party(owner);
    return party !== undefined && party.pid !== process.pid && processEnded(party.pid);
  }

  /** Who entry `owner - 1` names, when it is taken. */
  #party(owner: number): { pid: number; threadId: number; ended: boolean } | undefined {
    const k = owner - 1;
    const t = this.#table;
    if (k < 0 || k >= ENTRIES || Atomics.load(t, 4 + 4 * k) !== 1) return undefined;
    return { pid: Atomics.load(t, 5 + 4 * k), threadId: Atomics.load(t, 6 + 4 * k), ended: Atomics.load(t, 7 + 4 * k) === 1 };
  }

  /** Claims an entry of the party table for this thread. */
  #register(): number {
    const t = this.#table;
    const n = Math.min(Atomics.load(t, 0), ENTRIES);
    for (let k = 0; k < n; k++) {
      if (Atomics.load(t, 4 + 4 * k) === 0 && Atomics.compareExchange(t, 4 + 4 * k, 0, 2) === 0) return this.#fill(k);
    }
    for (let k = 0; k < n; k++) {
      if (this.ownerEnded(k + 1) && !this.#named(k + 1) && Atomics.compareExchange(t, 4 + 4 * k, 1, 2) === 1) return this.#fill(k);
    }
    throw new IpcError(`more than ${ENTRIES} live threads and processes use one shared object`);
  }

  #fill(k: number): number {
    const t = this.#table;
    Atomics.store(t, 5 + 4 * k, process.pid);
    Atomics.store(t, 6 + 4 * k, threadId);
    Atomics.store(t, 7 + 4 * k, 0);
    Atomics.store(t, 4 + 4 * k, 1);
    return k + 1;
  }

  /** True when a lock word of the block names `owner`. */
  #named(owner: number): boolean {
    const words = this.block.ownerWords;
    if (words !== "all") return words.some((w) => (Atomics.load(this.#words, w) & OWNER_MASK) === owner);
    for (let w = 0; w < this.#words.length; w++) if ((Atomics.load(this.#words, w) & OWNER_MASK) === owner) return true;
    return false;
  }
}

// One backend per block per isolate (so a thread holds one party entry per block), found again
// by mapping id while anything still uses it.
const backends = new Map<string | number, WeakRef<NativeBackend>>();
// forgets the entries of collected backends (unless a new backend took the key meanwhile)
const forget = new FinalizationRegistry<{ map: Map<string | number, WeakRef<NativeBackend>>; key: string | number }>(({ map, key }) => {
  if (map.get(key)?.deref() === undefined) map.delete(key);
});

function remember(map: Map<string | number, WeakRef<NativeBackend>>, key: string | number, backend: NativeBackend): void {
  map.set(key, new WeakRef(backend));
  forget.register(backend, { map, key });
}

function backendFor(buffer: SharedArrayBuffer, block: NativeBlock): NativeBackend {
  let backend = backends.get(block.id)?.deref();
  if (!backend) {
    backend = new NativeBackend(buffer, block);
    remember(backends, block.id, backend);
  }
  return backend;
}

/** The words of a native block, as a {@link SharedWords}. */
export interface NativeWords extends SharedWords {
  readonly native: NativeBlock;
}

/** True when `words` live in a native block. */
export function isNative(words: SharedWords): words is NativeWords {
  return (words as NativeWords).native !== undefined;
}

/**
 * Allocates a zeroed native block of `byteLength` bytes for a primitive (plus its party table);
 * its first `count` words are the primitive's control words. `ownerWords` lists the words that
 * may hold owner ids. Throws when the addon is not loaded (check {@link nativeAvailable}).
 */
export function allocateNativeWords(byteLength: number, count: number, ownerWords: readonly number[] | "all"): NativeWords {
  const partyOffset = (byteLength + 63) & ~63;
  const size = partyOffset + PARTY_TABLE_BYTES;
  const cap = blockCap();
  if (liveBlocks >= cap) {
    throw new IpcError(`${liveBlocks} blocks are mapped here, half of this process's limit of open files: the rest is left to the program`);
  }
  if (liveMappings >= MAX_MAPPINGS) throw new IpcError(`${liveMappings} blocks are mapped here and not collected yet`);
  const [buffer, id, fd] = requireBinding().create(size);
  countBlock(buffer);
  const header = new Int32Array(buffer, partyOffset, 4);
  // tells blocks apart, not a secret (forged handles are refused by the addon's checks)
  const stamp = 1 + Math.floor(Math.random() * 0x7ffffffe);
  Atomics.store(header, 0, ENTRIES);
  Atomics.store(header, 1, PARTY_MAGIC);
  Atomics.store(header, STAMP, stamp);
  return nativeWordsOf(buffer, { id, fd, size, partyOffset, ownerWords, stamp }, 0, count);
}

/**
 * Blocks this isolate made or mapped and has not collected yet: each holds a file descriptor until
 * it is collected or released ({@link releaseNativeDescriptor}), and a program that makes queues in
 * a loop can have thousands waiting for a collection. New blocks stop at half the process's limit
 * of open files (`Max open files` in /proc/self/limits; 512 when unreadable), so the program's own
 * files and sockets always find descriptors, and at {@link MAX_MAPPINGS} mappings (a block whose
 * descriptor was released stays mapped until it is collected); objects made past either use a
 * `SharedArrayBuffer` (see {@link tryAllocateNativeWords}).
 */
let liveBlocks = 0;
let liveMappings = 0;
/** Under the kernel's default `vm.max_map_count` (65,530) and the addon's table (65,536). */
const MAX_MAPPINGS = 32768;
/** Whether a block still counts a descriptor (false once released). */
interface Counted {
  descriptor: boolean;
}
const counted = new WeakMap<SharedArrayBuffer, Counted>();
const blockCollected = new FinalizationRegistry<Counted>((c) => {
  liveMappings--;
  if (c.descriptor) liveBlocks--;
});
let knownCap: number | undefined;

function countBlock(buffer: SharedArrayBuffer): void {
  liveBlocks++;
  liveMappings++;
  const c = { descriptor: true };
  counted.set(buffer, c);
  blockCollected.register(buffer, c);
}

/**
 * Closes this process's descriptor of a block that no handle can name any more (a pipe whose two
 * ends are closed for good by all their holders), so that it stops counting against the open-file
 * limit now instead of at a collection; its memory stays mapped until then. Does nothing while a
 * handle naming the block is on its way to another process, or without an addon that can.
 */
export function releaseNativeDescriptor(words: NativeWords): void {
  const c = counted.get(words.buffer);
  if (!c?.descriptor || pinned.has(words.buffer)) return;
  if (load().binding?.releaseDescriptor?.(words.native.id) !== true) return;
  c.descriptor = false;
  liveBlocks--;
}

function blockCap(): number {
  if (knownCap !== undefined) return knownCap;
  let cap = 512;
  try {
    const line = readFileSync("/proc/self/limits", "latin1")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.split(/\s+/)[3]);
    if (Number.isFinite(soft) && soft > 0) cap = Math.max(16, Math.floor(soft / 2));
  } catch {
    // not Linux's /proc: keep the default
  }
  return (knownCap = cap);
}

function nativeWordsOf(buffer: SharedArrayBuffer, block: NativeBlock, byteOffset: number, count: number): NativeWords {
  requireBinding(); // loaded in this isolate before its backend sleeps or wakes
  return { buffer, byteOffset, i32: new Int32Array(buffer, byteOffset, count), backend: backendFor(buffer, block), native: block };
}

let warned = false;

/**
 * {@link allocateNativeWords} when it can, else `undefined` (the addon is not loaded, or the
 * process is out of descriptors or mappings: the caller then uses a `SharedArrayBuffer`, reached
 * by other processes through the broker). Warns once when it could not.
 */
export function tryAllocateNativeWords(byteLength: number, count: number, ownerWords: readonly number[] | "all"): NativeWords | undefined {
  if (!nativeAvailable()) return undefined;
  try {
    return allocateNativeWords(byteLength, count, ownerWords);
  } catch (error) {
    if (!warned) {
      warned = true;
      process.emitWarning(`@ipc: no more shared memory for other processes (${(error as Error).message}); new objects are reached through the broker`, "IpcWarning");
    }
    return undefined;
  }
}

/** Bytes of an arena block's primitive area (the block adds its party table). */
const ARENA_BYTES = 60 * 1024;
let arena: { buffer: SharedArrayBuffer; block: NativeBlock; used: number } | undefined;

/**
 * Allocates `count` zeroed control words for a small primitive (a lock, an event...) from this
 * isolate's current arena block: one mapping, one descriptor and one party table serve many
 * primitives. Slots are never re-used; a block is unmapped once nothing uses any of its
 * primitives. `undefined` when no block can be had (see {@link tryAllocateNativeWords}).
 */
export function allocateNativeSmall(count: number): NativeWords | undefined {
  const bytes = (count * 4 + 15) & ~15;
  if (!arena || arena.used + bytes > ARENA_BYTES) {
    const w = tryAllocateNativeWords(ARENA_BYTES, 0, "all");
    if (!w) return undefined;
    arena = { buffer: w.buffer, block: w.native, used: 0 };
  }
  const offset = arena.used;
  arena.used += bytes;
  return nativeWordsOf(arena.buffer, arena.block, offset, count);
}

/** The state a native block travels as: the buffer itself to a thread, a path to a process. */
export interface NativeHandleState {
  buffer?: SharedArrayBuffer;
  path?: string;
  block: NativeBlock;
  byteOffset: number;
  count: number;
}

// Blocks handed to another process, kept mapped here (their descriptors open) while handles naming
// them are on their way: the receiver opens them by path, maybe long after the handle was made.
const pinned = new Map<SharedArrayBuffer, Int32Array>();
/** How often pinned blocks are checked for handles still on their way (ms). */
const UNPIN_MS = 1000;
let unpinTimer: NodeJS.Timeout | undefined;

/** Lets go of the blocks no handle on its way names any more (their users keep them mapped). */
function unpin(): void {
  for (const [buffer, header] of pinned) if (Atomics.load(header, IN_FLIGHT) <= 0) pinned.delete(buffer);
  if (pinned.size === 0 && unpinTimer) {
    clearInterval(unpinTimer);
    unpinTimer = undefined;
  }
}

function headerOf(buffer: SharedArrayBuffer, block: NativeBlock): Int32Array {
  return new Int32Array(buffer, block.partyOffset, 4);
}

/** Describes native words for a thread of this process or for another process. */
export function nativeHandleState(words: NativeWords, target: "thread" | "process"): NativeHandleState {
  const block = words.native;
  const { byteOffset } = words;
  if (target === "thread") return { buffer: words.buffer, block, byteOffset, count: words.i32.length };
  if (counted.get(words.buffer)?.descriptor === false) throw new IpcError("this shared object's memory was released here: it can no longer be handed to another process");
  let header = pinned.get(words.buffer);
  if (!header) {
    header = headerOf(words.buffer, block);
    pinned.set(words.buffer, header);
    unpinTimer ??= setInterval(unpin, UNPIN_MS).unref();
  }
  Atomics.add(header, IN_FLIGHT, 1);
  return { path: `/proc/${process.pid}/fd/${block.fd}`, block, byteOffset, count: words.i32.length };
}

/** Revives native words from {@link nativeHandleState}. */
export function nativeWordsFrom(state: NativeHandleState): NativeWords {
  if (state.buffer) return nativeWordsOf(state.buffer, state.block, state.byteOffset, state.count);
  const path = state.path;
  if (typeof path !== "string" || !PROC_FD.test(path)) throw new SerializationError("a handle's shared memory must be a descriptor of a process (/proc/<pid>/fd/<n>)");
  // a block is mapped once per isolate, however many of its primitives arrive (a path is re-used
  // for another block once its home released the first: the stamp tells them apart)
  const stamp = state.block.stamp;
  const key = `${path}#${stamp}`;
  let backend = byPath.get(key)?.deref();
  if (!backend) {
    let mapped: [SharedArrayBuffer, number, number];
    try {
      mapped = requireBinding().open(path, state.block.size);
    } catch (error) {
      if (error instanceof IpcError) throw error;
      // the addon maps only memfds it made itself (name, seals and size checked): a forged path is refused unmapped
      if ((error as Error).message?.startsWith("not @ipc shared memory")) throw new SerializationError(`refused a handle: ${path} is not @ipc shared memory`, { cause: error });
      throw new IpcError(`cannot map the shared memory of another process (${path}): has it exited?`, { cause: error });
    }
    const [buffer, id, fd] = mapped;
    countBlock(buffer);
    const header = headerOf(buffer, state.block);
    if (Atomics.load(header, 1) !== PARTY_MAGIC || Atomics.load(header, STAMP) !== stamp) {
      // unmapped when `buffer` is collected
      throw new IpcError(`the shared memory of this handle is gone: its home released it (${path})`);
    }
    backend = backendFor(buffer, { ...state.block, id, fd });
    remember(byPath, key, backend);
  }
  // this handle has arrived: its home may let go of the block once no other is on its way
  Atomics.sub(headerOf(backend.buffer, backend.block), IN_FLIGHT, 1);
  return nativeWordsOf(backend.buffer, backend.block, state.byteOffset, state.count);
}

const byPath = new Map<string | number, WeakRef<NativeBackend>>();
/** The only paths a handle may name: a descriptor of a process holding the block. */
const PROC_FD = /^\/proc\/[1-9]\d*\/fd\/\d+$/;

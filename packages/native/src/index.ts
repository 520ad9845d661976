/**
 * @ipc/native: the optional addon that lets @ipc share memory between processes (Linux).
 *
 * - {@link NativeBinding.create} / {@link NativeBinding.open}: a `memfd` mapping as a real
 *   `SharedArrayBuffer` (so `Atomics.*` work on it and it can be posted to worker threads);
 *   another process maps the same memory through `/proc/<pid>/fd/<fd>` of a holder.
 * - {@link NativeBinding.wait} / {@link NativeBinding.wake}: a Linux futex without the private
 *   flag, so a wake in one process reaches a sleeper in another (`Atomics.wait` cannot: V8 keeps
 *   its waiters in an in-process list).
 * - {@link NativeBinding.waitAsync}: the same sleep on a pool of waiter threads, reported back on
 *   the caller's event loop; a pending wait keeps the loop alive.
 * - {@link NativeBinding.allocUnsafe}: large private buffers from huge-page regions, for received
 *   values (fresh 4 KiB pages fault one by one, which dominates copying large messages).
 * - {@link NativeBinding.handOver} / {@link NativeBinding.adopt} / {@link NativeBinding.takeInto}:
 *   such a buffer passed from one thread of this process to another with a single copy.
 * - {@link NativeBinding.setParentDeathSignal}: a child process ends with its parent (no orphans).
 * - {@link NativeBinding.yieldCpu}: gives this CPU to another runnable thread, for busy-waits.
 * - {@link NativeBinding.watchThreadEnd}: a worker thread records its own end as it goes.
 *
 * Every party sleeping on or waking a word must use this futex: an `Atomics.notify` does not wake
 * a futex sleeper, nor the reverse.
 */
import { createRequire } from "node:module";

/** 0 woken (or spuriously), 1 the word did not hold `expected`, 2 timed out. */
export type NativeWaitResult = 0 | 1 | 2;

/** The addon's functions. Offsets are byte offsets of 4-byte-aligned words in the mapping. */
export interface NativeBinding {
  /** A new zeroed shared mapping of `size` bytes: `[buffer, id, fd]`. */
  create(size: number): [buffer: SharedArrayBuffer, id: number, fd: number];
  /** Maps an existing mapping (e.g. `/proc/<pid>/fd/<fd>`) of at least `size` bytes. */
  open(path: string, size: number): [buffer: SharedArrayBuffer, id: number, fd: number];
  /**
   * Closes the descriptor kept open for mapping `id` (its memory stays mapped until the buffer is
   * collected): for a block no handle can name any more. True if one was open. After it, the
   * block's `/proc/<pid>/fd/<fd>` path no longer names it: never hand the block out again.
   */
  releaseDescriptor(id: number): boolean;
  /** Sleeps while the word holds `expected`, at most `timeoutMs` (Infinity: forever). */
  wait(id: number, byteOffset: number, expected: number, timeoutMs: number): NativeWaitResult;
  /** Wakes up to `count` sleepers of the word, in any process; returns how many. */
  wake(id: number, byteOffset: number, count: number): number;
  /**
   * {@link NativeBinding.wait} on a waiter thread; `done` runs on this thread's event loop.
   * Returns the wait's id, for {@link NativeBinding.cancelWait}.
   */
  waitAsync(id: number, byteOffset: number, expected: number, timeoutMs: number, done: (result: NativeWaitResult) => void): number;
  /**
   * Gives up on an async wait: its `done` is never called, and it no longer keeps the event loop
   * alive. (Waking its word instead is not reliable: a wake that comes while a waiter thread is
   * between two waits is lost, and the word is unchanged.)
   */
  cancelWait(waitId: number): void;
  /**
   * Named shared memory, as POSIX `shm_open` (a file under /dev/shm): maps `name`, making it
   * (zeroed, `size` bytes, EEXIST when taken) with `create`, else opening it at its own size
   * (ENOENT). Returns `[buffer, id, fd, size]`. Errors read `CODE: message`.
   */
  shmOpen(name: string, create: boolean, size: number): [buffer: SharedArrayBuffer, id: number, fd: number, size: number];
  /** Removes the name `name` (mappings stay valid). ENOENT when it is gone. */
  shmUnlink(name: string): void;
  /**
   * Records in the party table of every `@ipc` block this process maps (see @ipc/core's
   * native-memory.ts) that this process's thread `threadId` has ended; returns how many entries
   * it marked. Other processes then know that thread's locks may be taken over.
   */
  markThreadEnded(threadId: number): number;
  /**
   * A plain (not shared) `ArrayBuffer` of `size` **uninitialized** bytes, for a large value about
   * to be copied in whole: it comes from 2 MiB regions advised to use transparent huge pages
   * (one fault per region instead of one per 4 KiB page) and a few freed regions are kept for
   * reuse. Buffers up to 2 MiB share regions, so one that outlives its neighbours keeps its
   * region mapped. Write every byte before the buffer reaches code that did not allocate it.
   */
  allocUnsafe(size: number): ArrayBuffer;
  /**
   * Bytes of the {@link NativeBinding.allocUnsafe} regions this process maps, of those kept free
   * for reuse (unmapped after a second unused), the number of regions mapped so far (a stream
   * whose regions are reused maps few), and the number of hand-overs not adopted yet.
   */
  regionStats(): { mapped: number; kept: number; maps: number; handed: number };
  /**
   * Copies `bytes` into an {@link NativeBinding.allocUnsafe} block filed under the returned token
   * (a positive 31-bit integer), for another thread of this process to {@link NativeBinding.adopt}:
   * a large message then crosses between threads with one copy. A block never adopted is freed
   * once `ring` (the shared memory the token travels through) has been garbage-collected
   * everywhere. Counted in `regionStats().handed` until then.
   */
  handOver(bytes: ArrayBufferView, ring: SharedArrayBuffer): number;
  /** The block filed under `token` as this thread's own `ArrayBuffer`; `undefined` once adopted. */
  adopt(token: number): ArrayBuffer | undefined;
  /**
   * Copies the block filed under `token` into `target` (a view of exactly the block's length) and
   * frees it at once, so the next block reuses memory still in the cache; false once adopted.
   */
  takeInto(token: number, target: ArrayBufferView): boolean;
  /** True while `token` is filed and not adopted yet. */
  isFiled(token: number): boolean;
  /**
   * Asks the kernel to send `signal` (a number, e.g. 9) to this process when the thread that
   * started it ends (Linux `PR_SET_PDEATHSIG`), and returns the parent pid as of right after: a
   * parent gone before the call (the pid is no longer the expected one) sends nothing.
   */
  setParentDeathSignal(signal: number): number;
  /**
   * Lets another runnable thread of this machine have the calling thread's CPU (`sched_yield`):
   * for a busy-wait on another thread's progress, which on a machine with no idle core would
   * otherwise keep that thread off a core. Returns at once when nothing else is waiting to run.
   */
  yieldCpu(): void;
  /**
   * Has this thread record its own end: when it ends (returns, throws or is terminated), bit
   * `threadId` of `table` is set (`@ipc/core`'s table of ended threads, a `SharedArrayBuffer`) and
   * the thread is marked ended as by {@link NativeBinding.markThreadEnded}, from the thread itself
   * as its environment is torn down. Its parent hears of the end on its event loop only, which a
   * blocking wait in the parent holds; the locks the thread held can now be taken over at once.
   */
  watchThreadEnd(table: SharedArrayBuffer, threadId: number): void;
}

function load(): { binding?: NativeBinding; error?: unknown } {
  if (process.env.IPC_NATIVE === "0") return { error: new Error("disabled by IPC_NATIVE=0") };
  if (process.platform !== "linux") return { error: new Error(`no @ipc/native addon for ${process.platform}`) };
  const require = createRequire(import.meta.url);
  // one built for this Node's ABI first (several can sit side by side), then the last build
  const candidates = [`../prebuilds/${process.platform}-${process.arch}/ipc_native.abi${process.versions.modules}.node`, "../addon/build/Release/ipc_native.node"];
  let why: unknown;
  for (const path of candidates) {
    try {
      return { binding: require(path) as NativeBinding };
    } catch (error) {
      // a binary that exists and fails (another Node's ABI) says more than one that is missing
      if (why === undefined || (error as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") why = error;
    }
  }
  return { error: why };
}

const loaded = load();

/** The addon, or `undefined` where it is not built, not supported, or disabled (`IPC_NATIVE=0`). */
export const native: NativeBinding | undefined = loaded.binding;

/** Why {@link native} is `undefined` (for diagnostics). */
export const nativeLoadError: unknown = loaded.error;

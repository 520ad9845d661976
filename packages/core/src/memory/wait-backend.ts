/**
 * How a shared-memory primitive sleeps and wakes. Every primitive in @ipc is written against this
 * interface and an `Int32Array`, never against `Atomics.wait` directly, so that a second backend
 * (a native shared mapping with a cross-process futex, see docs/design.md) can be added without
 * touching their logic.
 *
 * Memory ordering: `Atomics.wait`/`notify` are sequentially consistent with every other
 * `Atomics.*` operation on the same buffer; callers re-check their condition after every wake-up,
 * so spurious wake-ups (which this backend produces on abort) are always safe.
 */
import { abortReason } from "../errors/validate.js";
import { beforeBlock } from "./before-block.js";
import { localOwnerId } from "./isolate-id.js";
import { ownerEnded } from "./liveness.js";

/** Result of a wait: woken, value already different, or timed out. */
export type WaitResult = "ok" | "not-equal" | "timed-out";

/** A way to sleep on a 32-bit word until another party notifies it. */
export interface WaitBackend {
  /** Blocks the calling thread while `i32[index] === expected`, at most `timeout` ms. */
  wait(i32: Int32Array, index: number, expected: number, timeout: number): WaitResult;
  /** Same without blocking; rejects with the signal's reason on abort. */
  waitAsync(i32: Int32Array, index: number, expected: number, timeout: number, signal?: AbortSignal): Promise<WaitResult>;
  /** Wakes up to `count` sleepers on the word. */
  notify(i32: Int32Array, index: number, count?: number): number;
  /** The id the calling thread writes into the lock words of this memory (never 0, at most 30 bits). */
  readonly owner: number;
  /** True when the party named `owner` in this memory has ended, so a lock it holds may be taken over. */
  ownerEnded(owner: number): boolean;
  /**
   * True when `owner` is a thread of another process that has exited (memory shared between
   * processes only): a `Lock` it held is then taken over, as the broker releases one.
   */
  ownerProcessEnded?(owner: number): boolean;
}

// A pending Atomics.waitAsync does not keep Node's event loop alive: hold a ref'd timer while any is pending.
let pending = 0;
let keepAlive: NodeJS.Timeout | undefined;
function hold(): void {
  if (pending++ === 0) {
    if (!keepAlive) keepAlive = setInterval(() => {}, 2 ** 30);
    else keepAlive.ref();
  }
}
function unhold(): void {
  if (--pending === 0) keepAlive?.unref();
}

function toAtomicsTimeout(timeout: number): number {
  return timeout === Infinity ? Infinity : Math.max(0, timeout);
}

/** The backend for `SharedArrayBuffer` memory: `Atomics.wait`, `Atomics.waitAsync`, `Atomics.notify`. */
export const atomicsBackend: WaitBackend = {
  wait(i32, index, expected, timeout) {
    // a sleep cut short so that this thread's buffered sends move on is a spurious wake-up
    const t = beforeBlock(timeout);
    const r = Atomics.wait(i32, index, expected, toAtomicsTimeout(t));
    return r === "timed-out" && t < timeout ? "ok" : r;
  },
  async waitAsync(i32, index, expected, timeout, signal) {
    if (signal?.aborted) throw abortReason(signal);
    const r = Atomics.waitAsync(i32, index, expected, toAtomicsTimeout(timeout));
    if (!r.async) return r.value;
    hold();
    let onAbort: (() => void) | undefined;
    try {
      if (!signal) return await r.value;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          reject(abortReason(signal));
          // wake the pending waitAsync so it does not linger; every caller tolerates spurious wake-ups
          Atomics.notify(i32, index);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
      return await Promise.race([r.value, aborted]);
    } finally {
      if (onAbort) signal!.removeEventListener("abort", onAbort);
      unhold();
    }
  },
  notify(i32, index, count = Infinity) {
    return Atomics.notify(i32, index, count);
  },
  owner: localOwnerId,
  ownerEnded,
};

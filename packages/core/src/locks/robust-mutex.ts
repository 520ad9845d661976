/**
 * A futex mutex whose one word names its holder, so that a waiter can take it over when the
 * holder thread has ended (see liveness.ts). Used where a terminated worker must not wedge a
 * shared structure (queues).
 *
 * | word | meaning |
 * |---|---|
 * | `state` | 0 free; else bits 0-29 the holder's owner id (`backend.owner`: threadId + 1 in a SharedArrayBuffer) and bit 30 "maybe waiters" |
 *
 * One word, changed only by compare-exchange or exchange, so a thread terminated between any two
 * instructions leaves either a free mutex or one that names it (never "held by nobody"). Waiters
 * sleep in slices of {@link PROBE_MS}; after each slice they look at the holder, and when it has
 * ended, one of them wins a compare-exchange that puts its own id in the word: it then holds the
 * mutex, and the structure's own code repairs what the dead holder left half-done. As in Drepper's
 * mutex #3, a thread that has slept acquires with the waiters bit set, so a release always wakes
 * the next sleeper.
 */
import type { Deadline } from "../memory/deadline.js";
import type { WaitBackend } from "../memory/wait-backend.js";

/** How often a waiter checks whether the holder is still alive. */
export const PROBE_MS = 50;
/**
 * Loads a contender spends watching the word before it sleeps: critical sections here last about
 * a microsecond, a futex sleep and wake-up 30-50 µs.
 */
const SPIN = 400;

/** Spins until the word is free or `SPIN` loads have passed. */
function spinFree(i32: Int32Array, index: number): void {
  for (let k = 0; k < SPIN; k++) if (Atomics.load(i32, index) === 0) return;
}
const WAITERS = 0x40000000;
const OWNER = 0x3fffffff;

type Step = { done: boolean | "stolen" } | { sleep: number };

/** One attempt: taken, stolen, or the value to sleep on. */
function attempt(i32: Int32Array, index: number, backend: WaitBackend, contended: boolean): Step {
  const me = backend.owner;
  for (;;) {
    const v = Atomics.load(i32, index);
    if (v === 0) {
      if (Atomics.compareExchange(i32, index, 0, contended ? me | WAITERS : me) === 0) return { done: true };
      continue;
    }
    if (backend.ownerEnded(v & OWNER)) {
      if (Atomics.compareExchange(i32, index, v, me | WAITERS) === v) return { done: "stolen" };
      continue;
    }
    if (v & WAITERS) return { sleep: v };
    if (Atomics.compareExchange(i32, index, v, v | WAITERS) === v) return { sleep: v | WAITERS };
  }
}

/**
 * The locking loop, written once: yields the value to sleep on (for at most `PROBE_MS`), returns
 * the outcome. A first contended attempt spins instead of sleeping.
 */
function* locking(i32: Int32Array, index: number, backend: WaitBackend, deadline: Deadline): Generator<number, boolean | "stolen", void> {
  let contended = false;
  let spun = false;
  for (;;) {
    const step = attempt(i32, index, backend, contended);
    if ("done" in step) return step.done;
    if (!spun) {
      spun = true;
      spinFree(i32, index);
      continue;
    }
    if (deadline.remaining() <= 0) return false;
    yield step.sleep;
    contended = true;
  }
}

/** Locks, blocking the thread; false on timeout, "stolen" when taken over from an ended holder. */
export function lockRobustSync(i32: Int32Array, index: number, backend: WaitBackend, deadline: Deadline): boolean | "stolen" {
  // uncontended: no generator on the hot path
  if (Atomics.compareExchange(i32, index, 0, backend.owner) === 0) return true;
  const gen = locking(i32, index, backend, deadline);
  for (let step = gen.next(); ; step = gen.next()) {
    if (step.done) return step.value;
    backend.wait(i32, index, step.value, Math.min(deadline.remaining(), PROBE_MS));
  }
}

/** Locks without blocking the event loop; false on timeout, "stolen" when taken over. */
export async function lockRobustAsync(
  i32: Int32Array,
  index: number,
  backend: WaitBackend,
  deadline: Deadline,
  signal?: AbortSignal,
): Promise<boolean | "stolen"> {
  if (Atomics.compareExchange(i32, index, 0, backend.owner) === 0) return true;
  const gen = locking(i32, index, backend, deadline);
  for (let step = gen.next(); ; step = gen.next()) {
    if (step.done) return step.value;
    await backend.waitAsync(i32, index, step.value, Math.min(deadline.remaining(), PROBE_MS), signal);
  }
}

/** Unlocks, waking one sleeper when there may be one. */
export function unlockRobust(i32: Int32Array, index: number, backend: WaitBackend): void {
  if (Atomics.exchange(i32, index, 0) & WAITERS) backend.notify(i32, index, 1);
}

/** The owner id of the holder, 0 when free. */
export function robustHolder(i32: Int32Array, index: number): number {
  return Atomics.load(i32, index) & OWNER;
}

/**
 * A futex-style mutex on one 32-bit word (Drepper, "Futexes Are Tricky", mutex #3), in a sync and
 * an async flavour. Every lock in @ipc is built on these functions.
 *
 * | word | values |
 * |---|---|
 * | `state` | 0 unlocked · 1 locked, no waiters · 2 locked, maybe waiters |
 *
 * Memory ordering: acquisition is a successful `compareExchange`/`exchange` (seq-cst), release is
 * an `exchange`/`store` (seq-cst) before `notify`, so every write made under the mutex is visible
 * to the next holder. A waiter sleeps only while the word still reads 2, so a release between its
 * check and its sleep makes the sleep return at once ("not-equal"): no lost wake-up.
 */
import type { Deadline } from "../memory/deadline.js";
import type { WaitBackend } from "../memory/wait-backend.js";

/** Tries once; true when the mutex was free and is now ours. */
export function tryLockMutex(i32: Int32Array, index: number): boolean {
  return Atomics.compareExchange(i32, index, 0, 1) === 0;
}

/** Locks, blocking the thread; false when the deadline passed first. */
export function lockMutexSync(i32: Int32Array, index: number, backend: WaitBackend, deadline: Deadline): boolean {
  if (Atomics.compareExchange(i32, index, 0, 1) === 0) return true;
  let c = Atomics.load(i32, index);
  if (c !== 2) c = Atomics.exchange(i32, index, 2);
  while (c !== 0) {
    const rem = deadline.remaining();
    if (rem <= 0) return false;
    backend.wait(i32, index, 2, rem);
    c = Atomics.exchange(i32, index, 2);
  }
  return true;
}

/** Locks without blocking the event loop; false when the deadline passed first. */
export async function lockMutexAsync(
  i32: Int32Array,
  index: number,
  backend: WaitBackend,
  deadline: Deadline,
  signal?: AbortSignal,
): Promise<boolean> {
  if (Atomics.compareExchange(i32, index, 0, 1) === 0) return true;
  let c = Atomics.load(i32, index);
  if (c !== 2) c = Atomics.exchange(i32, index, 2);
  while (c !== 0) {
    const rem = deadline.remaining();
    if (rem <= 0) return false;
    await backend.waitAsync(i32, index, 2, rem, signal);
    c = Atomics.exchange(i32, index, 2);
  }
  return true;
}

/** Unlocks; false when it was not locked (nothing changed then). */
export function unlockMutex(i32: Int32Array, index: number, backend: WaitBackend): boolean {
  for (;;) {
    const v = Atomics.load(i32, index);
    if (v === 0) return false;
    if (v === 1) {
      if (Atomics.compareExchange(i32, index, 1, 0) === 1) return true;
      continue;
    }
    Atomics.store(i32, index, 0);
    backend.notify(i32, index, 1);
    return true;
  }
}

/**
 * Runs the synchronous `fn` holding the mutex, waiting for it without blocking the event loop.
 * The winning exchange and `fn` run in one synchronous stretch, so the mutex is never held while
 * this thread runs other code (which could then block on it with a `*Sync` call: a self-deadlock).
 */
export async function withMutexAsync<R>(i32: Int32Array, index: number, backend: WaitBackend, fn: () => R): Promise<R> {
  let c = Atomics.compareExchange(i32, index, 0, 1);
  while (c !== 0) {
    if (c !== 2) {
      c = Atomics.exchange(i32, index, 2);
      if (c === 0) break;
    }
    await backend.waitAsync(i32, index, 2, Infinity);
    c = Atomics.exchange(i32, index, 2);
  }
  try {
    return fn();
  } finally {
    unlockMutex(i32, index, backend);
  }
}

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
import { Deadline } from "../memory/deadline.js";
import type { WaitBackend } from "../memory/wait-backend.js";

/** Tries once; true when the mutex was free and is now ours. */
export function tryLockMutex(i32: Int32Array, index: number): boolean {
  return Atomics.compareExchange(i32, index, 0, 1) === 0;
}

/** Locks, blocking the thread; false when the deadline passed first. */
export function lockMutexSync(i32: Int32Array, index: number, backend: WaitBackend, deadline: Deadline): boolean {
  if (Atomics.compareExchange(i32, index, 0, 1) === 0) return true;
  if (spinLock(i32, index)) return true;
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

/**
 * Bounded spinning before sleeping: a holder on another core usually releases within a few hundred
 * nanoseconds, far less than a futex sleep and wake-up costs. A spinner that wins takes the word
 * 0 → 1 even when others sleep: the woken sleeper's exchange to 2 then marks it contended again,
 * so the spinner's release still wakes the next (Drepper's argument for mutex #3).
 */
const SPINS = 64;

function spinLock(i32: Int32Array, index: number): boolean {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(i32, index) === 0 && Atomics.compareExchange(i32, index, 0, 1) === 0) return true;
  }
  return false;
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

/** How often a waiter for a mutex held by another process checks that the process still lives. */
const OWNER_PROBE_MS = 50;

/**
 * Takes over a held mutex whose holder (named in word `ownerIndex`) belongs to a process that has
 * exited: one waiter wins a compare-exchange of the owner word from the dead id to `me`, and then
 * holds the mutex (marked "maybe waiters", so its release wakes the next).
 */
function takeOver(i32: Int32Array, index: number, ownerIndex: number, me: number, backend: WaitBackend): boolean {
  const owner = Atomics.load(i32, ownerIndex);
  if (owner === 0 || owner === me || Atomics.load(i32, index) === 0 || !backend.ownerProcessEnded!(owner)) return false;
  if (Atomics.compareExchange(i32, ownerIndex, owner, me) !== owner) return false;
  Atomics.store(i32, index, 2);
  return true;
}

/**
 * {@link lockMutexSync} for a mutex that names its holder in word `ownerIndex`: in memory shared
 * with other processes, a waiter looks every {@link OWNER_PROBE_MS} whether the holder's process
 * has exited, and takes the mutex over if so. The caller stores `me` as the owner once it holds it.
 */
export function lockOwnedSync(i32: Int32Array, index: number, ownerIndex: number, me: number, backend: WaitBackend, deadline: Deadline): boolean {
  if (!backend.ownerProcessEnded) return lockMutexSync(i32, index, backend, deadline);
  for (;;) {
    if (lockMutexSync(i32, index, backend, new Deadline(Math.min(deadline.remaining(), OWNER_PROBE_MS)))) return true;
    if (takeOver(i32, index, ownerIndex, me, backend)) return true;
    if (deadline.expired()) return false;
  }
}

/** {@link lockOwnedSync} without blocking the event loop. */
export async function lockOwnedAsync(
  i32: Int32Array,
  index: number,
  ownerIndex: number,
  me: number,
  backend: WaitBackend,
  deadline: Deadline,
  signal?: AbortSignal,
): Promise<boolean> {
  if (!backend.ownerProcessEnded) return lockMutexAsync(i32, index, backend, deadline, signal);
  for (;;) {
    if (await lockMutexAsync(i32, index, backend, new Deadline(Math.min(deadline.remaining(), OWNER_PROBE_MS)), signal)) return true;
    if (takeOver(i32, index, ownerIndex, me, backend)) return true;
    if (deadline.expired()) return false;
  }
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

/**
 * A futex mutex with an owner word, that a waiter takes over when its owner thread has ended
 * (see liveness.ts). Used where a terminated worker must not wedge a shared structure (queues).
 *
 * | word | meaning |
 * |---|---|
 * | `state` | as futex-mutex.ts: 0 free · 1 held · 2 held, maybe waiters |
 * | `owner` | owner id (threadId + 1) of the holder, 0 when free |
 *
 * Waiters sleep in slices of {@link PROBE_MS}; after each slice they look at the owner. When it
 * has ended, one waiter wins a compare-exchange of the owner word and holds the mutex from then
 * on (the state word already says "held"); the structure's own code then repairs what the dead
 * owner left half-done.
 */
import type { Deadline } from "../memory/deadline.js";
import { localOwnerId } from "../memory/isolate-id.js";
import { ownerEnded } from "../memory/liveness.js";
import type { WaitBackend } from "../memory/wait-backend.js";

/** How often a waiter checks whether the holder is still alive. */
export const PROBE_MS = 50;

function tryTake(i32: Int32Array, state: number, owner: number): boolean | "stolen" {
  if (Atomics.compareExchange(i32, state, 0, 1) === 0) {
    Atomics.store(i32, owner, localOwnerId);
    return true;
  }
  const holder = Atomics.load(i32, owner);
  if (holder !== 0 && ownerEnded(holder) && Atomics.compareExchange(i32, owner, holder, localOwnerId) === holder) {
    Atomics.store(i32, state, 2);
    return "stolen";
  }
  return false;
}

/** Locks, blocking the thread; false on timeout, "stolen" when taken over from an ended owner. */
export function lockRobustSync(i32: Int32Array, state: number, owner: number, backend: WaitBackend, deadline: Deadline): boolean | "stolen" {
  for (;;) {
    const got = tryTake(i32, state, owner);
    if (got) return got;
    const rem = deadline.remaining();
    if (rem <= 0) return false;
    const c = Atomics.exchange(i32, state, 2);
    if (c === 0) {
      Atomics.store(i32, owner, localOwnerId);
      return true;
    }
    backend.wait(i32, state, 2, Math.min(rem, PROBE_MS));
  }
}

/** Locks without blocking the event loop; false on timeout, "stolen" when taken over. */
export async function lockRobustAsync(
  i32: Int32Array,
  state: number,
  owner: number,
  backend: WaitBackend,
  deadline: Deadline,
  signal?: AbortSignal,
): Promise<boolean | "stolen"> {
  for (;;) {
    const got = tryTake(i32, state, owner);
    if (got) return got;
    const rem = deadline.remaining();
    if (rem <= 0) return false;
    const c = Atomics.exchange(i32, state, 2);
    if (c === 0) {
      Atomics.store(i32, owner, localOwnerId);
      return true;
    }
    await backend.waitAsync(i32, state, 2, Math.min(rem, PROBE_MS), signal);
  }
}

/** Unlocks. */
export function unlockRobust(i32: Int32Array, state: number, owner: number, backend: WaitBackend): void {
  Atomics.store(i32, owner, 0);
  if (Atomics.exchange(i32, state, 0) === 2) backend.notify(i32, state, 1);
}


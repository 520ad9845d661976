/**
 * Drivers of the ring's operations (generators of sleep requests): take the side's lock, run the
 * generator, sleep where it asks, release the lock however it ends.
 */
import { lockRobustAsync, lockRobustSync, unlockRobust } from "../locks/robust-mutex.js";
import type { Deadline } from "../memory/deadline.js";
import type { Ring, Sleep } from "./ring.js";

/**
 * Spins briefly before sleeping: when the other side streams, it is about to publish, and a futex
 * sleep plus wake-up costs 10-50 µs here against a few µs of loads. When it is busy for longer (a
 * round trip: it is decoding, working, encoding), a failed spin only steals time from it (the
 * two vCPUs here share a core: a spinning sibling made a 15 µs ping-pong take 30-45 µs, measured).
 * So the spin adapts per ring, as an adaptive mutex does: back to the full spin after one that saw the
 * change, halves after one that did not, between {@link MIN_SPIN} and the driver's maximum.
 */
function spin(i32: Int32Array, s: Sleep, rounds: number): boolean {
  for (let k = 0; k < rounds; k++) if (Atomics.load(i32, s.index) !== s.value) return true;
  return false;
}
const SYNC_SPIN = 2000;
const ASYNC_SPIN = 200;
const MIN_SPIN = 16;

/** Spins with the ring's current budget and adapts it; true when the word changed. */
function adaptiveSpin(ring: Ring, s: Sleep, sync: boolean): boolean {
  const budget = sync ? ring.spinSync : ring.spinAsync;
  const max = sync ? SYNC_SPIN : ASYNC_SPIN;
  const hit = spin(ring.i32, s, budget);
  const next = hit ? max : Math.max(MIN_SPIN, budget >> 1);
  if (sync) ring.spinSync = next;
  else ring.spinAsync = next;
  return hit;
}

/** Runs `gen` holding lock word `lock`, blocking the thread. `onLockTimeout` makes the error for a lock not won in time. */
export function driveSync<R>(ring: Ring, lock: number | null, deadline: Deadline, gen: Generator<Sleep, R, void>, onLockTimeout: () => Error): R {
  const { i32, backend } = ring;
  if (lock !== null && !lockRobustSync(i32, lock, backend, deadline)) throw onLockTimeout();
  try {
    let step = gen.next();
    while (!step.done) {
      const s = step.value;
      if (adaptiveSpin(ring, s, true)) {
        step = gen.next();
        continue;
      }
      if (s.counter >= 0) Atomics.add(i32, s.counter, 1);
      try {
        backend.wait(i32, s.index, s.value, s.deadline.remaining());
      } finally {
        if (s.counter >= 0) Atomics.sub(i32, s.counter, 1);
      }
      step = gen.next();
    }
    return step.value;
  } finally {
    if (lock !== null) unlockRobust(i32, lock, backend);
  }
}

/**
 * As {@link driveSync} without blocking the event loop. The signal cancels waits that come before
 * the operation is committed (a sleep with a finite deadline); a committed item is always finished.
 */
export async function driveAsync<R>(
  ring: Ring,
  lock: number | null,
  deadline: Deadline,
  gen: Generator<Sleep, R, void>,
  onLockTimeout: () => Error,
  signal?: AbortSignal,
): Promise<R> {
  const { i32, backend } = ring;
  if (lock !== null && !(await lockRobustAsync(i32, lock, backend, deadline, signal))) throw onLockTimeout();
  try {
    let step = gen.next();
    while (!step.done) {
      const s = step.value;
      if (adaptiveSpin(ring, s, false)) {
        step = gen.next();
        continue;
      }
      if (s.counter >= 0) Atomics.add(i32, s.counter, 1);
      let failure: unknown;
      try {
        // the ring sleeps with the operation's own deadline until it commits, with `forever` after
        await backend.waitAsync(i32, s.index, s.value, s.deadline.remaining(), s.deadline === deadline ? signal : undefined);
      } catch (e) {
        failure = e;
      } finally {
        if (s.counter >= 0) Atomics.sub(i32, s.counter, 1);
      }
      step = failure === undefined ? gen.next() : gen.throw(failure);
    }
    return step.value;
  } finally {
    if (lock !== null) unlockRobust(i32, lock, backend);
  }
}

/**
 * Drivers of the ring's operations (generators of sleep requests): take the side's lock, run the
 * generator, sleep where it asks, release the lock however it ends.
 */
import { lockRobustAsync, lockRobustSync, unlockRobust } from "../locks/robust-mutex.js";
import type { Deadline } from "../memory/deadline.js";
import type { Ring, Sleep } from "./ring.js";
import { registerSleeper, unregisterSleeper } from "./ring-words.js";

/**
 * Spins briefly before sleeping: the other side is often about to publish, and a futex sleep plus
 * wake-up costs 30-80 µs on an idle machine here (the vCPU halts), against a few µs of loads. A
 * spin that adapted down after misses was tried: with a busy sibling it helped round trips, on a
 * quiet machine it made a pipe round trip 69 µs instead of 13 µs (measured in bench/).
 */
function spin(i32: Int32Array, s: Sleep, rounds: number): boolean {
  for (let k = 0; k < rounds; k++) if (Atomics.load(i32, s.index) !== s.value) return true;
  return false;
}
const SYNC_SPIN = 2000;
const ASYNC_SPIN = 200;
/**
 * How long a wait in the middle of an item spins (ms): a frame is at most a quarter of the ring
 * (256 KiB in a default queue), whose copy takes 40-120 µs here, so the next frame or the room
 * for it is due within that; a sleep and an async wake-up instead cost 20-80 µs for each frame.
 */
const SOON_MS = 0.25;

/** Spins until the word changes or `ms` have passed (checking the clock every 64 loads). */
function spinFor(i32: Int32Array, s: Sleep, ms: number): boolean {
  const start = performance.now();
  do if (spin(i32, s, 64)) return true;
  while (performance.now() - start < ms);
  return false;
}

/** The spin before a sleep: short, or as long as a frame's copy when the change is due soon. */
function spinBefore(i32: Int32Array, s: Sleep, rounds: number): boolean {
  return s.soon === true ? spinFor(i32, s, SOON_MS) : spin(i32, s, rounds);
}

/** Runs `gen` holding lock word `lock`, blocking the thread. `onLockTimeout` makes the error for a lock not won in time. */
export function driveSync<R>(ring: Ring, lock: number | null, deadline: Deadline, gen: Generator<Sleep, R, void>, onLockTimeout: () => Error): R {
  const { i32, backend } = ring;
  if (lock !== null && !lockRobustSync(i32, lock, backend, deadline)) throw onLockTimeout();
  try {
    let step = gen.next();
    while (!step.done) {
      const s = step.value;
      if (spinBefore(i32, s, SYNC_SPIN)) {
        step = gen.next();
        continue;
      }
      if (s.counter >= 0) registerSleeper(i32, s.counter);
      try {
        backend.wait(i32, s.index, s.value, Math.min(s.deadline.remaining(), s.slice ?? Infinity));
      } finally {
        if (s.counter >= 0) unregisterSleeper(i32, s.counter);
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
      if (spinBefore(i32, s, ASYNC_SPIN)) {
        step = gen.next();
        continue;
      }
      if (s.counter >= 0) registerSleeper(i32, s.counter);
      let failure: unknown;
      try {
        // the ring sleeps with the operation's own deadline until it commits, with `forever` after
        await backend.waitAsync(i32, s.index, s.value, Math.min(s.deadline.remaining(), s.slice ?? Infinity), s.deadline === deadline ? signal : undefined);
      } catch (e) {
        failure = e;
      } finally {
        if (s.counter >= 0) unregisterSleeper(i32, s.counter);
      }
      step = failure === undefined ? gen.next() : gen.throw(failure);
    }
    return step.value;
  } finally {
    if (lock !== null) unlockRobust(i32, lock, backend);
  }
}

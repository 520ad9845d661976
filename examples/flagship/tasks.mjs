// The functions the flagship runs in its threads and its child process.
import { writeSync } from "node:fs";
import { currentProcess } from "@ipc/process";

export const ROUNDS = 4;
export const SAMPLES = 250_000;

/** Thread worker: throws darts, adds its hits under the lock, meets the others at the barrier. */
export function estimate(counts, lock, barrier, seed) {
  globalThis.flagshipCounts = counts;
  let x = seed >>> 0 || 1;
  const random = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 4294967296);
  for (let round = 0; round < ROUNDS; round++) {
    let hits = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const a = random();
      const b = random();
      if (a * a + b * b <= 1) hits++;
    }
    lock.withLockSync(() => {
      counts[0] += hits;
      counts[1] += SAMPLES;
    });
    barrier.waitSync();
  }
}

/** Barrier action: runs once per round, in whichever thread arrives last, before anyone moves on. */
export function report() {
  const counts = globalThis.flagshipCounts;
  // a direct write: console.log in a worker thread is forwarded to the main thread asynchronously,
  // so lines from different threads could arrive out of order
  writeSync(1, `  round ${counts[1] / counts[2]} done (last to arrive: ${currentProcess().name}): π ≈ ${((4 * counts[0]) / counts[1]).toFixed(5)}\n`);
}

/** Process child: waits for the signal, then prints under the same lock (shared memory with @ipc/native, else through the broker). */
export async function announce(lock, done, workers) {
  if (!(await done.wait({ timeout: 60_000 }))) process.exit(1);
  await lock.withLock(() => console.log(`${currentProcess().name} (pid ${process.pid}, a separate process) saw ${workers} threads finish`));
}

// The test suite leaves nothing in /dev/shm: run a command, then compare /dev/shm with what was
// there before it. Segments a test leaked are removed by the SharedMemory tracker once the test's
// process tree is gone, a moment after it ends: wait for that (bounded), then report what is left.
// With IPC_TEST_REPORT_DIR set, the outcome also counts as one test in the summary.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

const SHM = "/dev/shm";

/** Names in /dev/shm now (none where there is no /dev/shm). */
export function shmSnapshot() {
  return existsSync(SHM) ? new Set(readdirSync(SHM)) : new Set();
}

/** Names in /dev/shm that were not in `before`, after waiting up to `waitMs` for trackers to finish. */
export async function leftSince(before, waitMs = 5000) {
  const end = Date.now() + waitMs;
  for (;;) {
    const left = [...shmSnapshot()].filter((n) => !before.has(n));
    if (left.length === 0 || Date.now() >= end) return left;
    await delay(50);
  }
}

/** Prints the outcome and records it as a test result; true when nothing was left. */
export function reportShm(left) {
  const ok = left.length === 0;
  if (ok) console.log("[check] /dev/shm: the suite left nothing behind");
  else console.error(`[check] /dev/shm: the suite left ${left.length} segment(s): ${left.join(", ")}`);
  const dir = process.env.IPC_TEST_REPORT_DIR;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "dev-shm-check.json"), JSON.stringify({ numPassedTests: ok ? 1 : 0, numFailedTests: ok ? 0 : 1, testResults: [] }));
  }
  return ok;
}

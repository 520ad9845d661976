/**
 * No orphans: a `'process'` child ends when its parent process dies, however busy it is and even
 * while blocked in a `*Sync` wait (no event loop runs then, so the IPC channel's `disconnect`
 * event alone cannot do it).
 *
 * - Linux with @ipc/native, started by the parent's main thread: the kernel sends SIGKILL when the
 *   parent dies (`PR_SET_PDEATHSIG`), checked right after against the race of a parent that died
 *   before (the parent pid is then no longer the one that started us).
 * - Otherwise (no addon, or a parent that is a worker thread: the kernel's signal follows the
 *   thread that forked, which may end long before its process): a small watchdog thread compares
 *   the parent pid every {@link WATCH_MS} and kills this process once it changed.
 */
import { lazyRequire, nativeParentDeathSignal } from "@ipc/core/slim";

/** Environment variables the parent sets for its child (process.ts). */
export const PARENT_PID_ENV = "IPC_PARENT_PID";
export const PARENT_MAIN_ENV = "IPC_PARENT_MAIN_THREAD";
/** How often the watchdog thread looks at the parent pid (ms). */
const WATCH_MS = 250;

const requireHere = lazyRequire(import.meta.url);

/** Ends this process at once: the parent that started it is gone. */
function orphaned(): never {
  process.kill(process.pid, "SIGKILL");
  return process.exit(1);
}

/** Arranges for this process to end when its parent does (see the module comment). */
export function watchParent(env: NodeJS.ProcessEnv = process.env): void {
  const expected = Number(env[PARENT_PID_ENV]);
  if (!Number.isInteger(expected) || expected <= 0) return;
  if (process.ppid !== expected) orphaned();
  if (env[PARENT_MAIN_ENV] === "1" && setDeathSignal(expected)) return;
  const { Worker } = requireHere("node:worker_threads") as typeof import("node:worker_threads");
  const watchdog = new Worker(
    `const expected = ${expected};
     setInterval(() => { if (process.ppid !== expected) process.kill(process.pid, "SIGKILL"); }, ${WATCH_MS});`,
    { eval: true, name: "@ipc parent watch", env: {} },
  );
  // a watchdog that fails to start leaves the IPC channel's disconnect as the only watch
  watchdog.on("error", () => {});
  watchdog.unref();
}

/** PR_SET_PDEATHSIG through the addon; false where it is not available. */
function setDeathSignal(expected: number): boolean {
  const parent = nativeParentDeathSignal(9);
  if (parent === undefined) return false;
  if (parent !== expected) orphaned();
  return true;
}

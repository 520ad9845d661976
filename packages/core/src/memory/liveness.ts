/**
 * Which threads of this process have ended, so that a lock held by a terminated worker thread can
 * be taken over (a "robust" mutex). A bitmap in a SharedArrayBuffer, one bit per `threadId`,
 * shared by every thread @ipc starts (the table travels in their start data and is installed on
 * `globalThis` before user code runs). The parent sets a thread's bit when it sees the worker
 * exit; the thread ids of Node are never reused within a process.
 *
 * | word | who writes | meaning |
 * |---|---|---|
 * | i | parents of exited threads | bit b set: thread `32 i + b` has ended |
 *
 * Memory ordering: bits are set with `Atomics.or` and read with `Atomics.load`; a set bit is final.
 */
import { isolateState, setIsolateState } from "../isolate-state.js";

const KEY = "@ipc/core:liveness";
const WORDS = 4096; // 131072 threads

/** The process-wide table of ended threads (created by the first isolate that needs it). */
export function livenessTable(): Int32Array {
  return isolateState(KEY, () => new Int32Array(new SharedArrayBuffer(WORDS * 4)));
}

/** Installs the table received from the parent thread (child bootstrap). */
export function installLivenessTable(table: Int32Array): void {
  setIsolateState(KEY, table);
}

/**
 * What else records a thread's end: native-memory.ts registers the marking of its blocks here (so
 * this module, below it, does not import it).
 */
const hooks = isolateState("@ipc/core:threadEndedHooks", () => new Set<(threadId: number) => void>());

/** Calls `hook` with the thread id of every thread {@link markThreadEnded} records from now on. */
export function onThreadEnded(hook: (threadId: number) => void): void {
  hooks.add(hook);
}

/** Records that thread `threadId` has ended (here, and through the hooks in the native blocks other processes share). */
export function markThreadEnded(threadId: number): void {
  if (threadId < 0 || threadId >= WORDS * 32) return;
  Atomics.or(livenessTable(), threadId >>> 5, 1 << (threadId & 31));
  for (const hook of hooks) hook(threadId);
}

/** True when the owner id (threadId + 1) names a thread known to have ended. */
export function ownerEnded(owner: number): boolean {
  const threadId = owner - 1;
  if (threadId < 0 || threadId >= WORDS * 32) return false;
  return (Atomics.load(livenessTable(), threadId >>> 5) & (1 << (threadId & 31))) !== 0;
}

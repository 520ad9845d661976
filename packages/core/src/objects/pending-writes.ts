/**
 * Writes that finish after the call that started them returned: a large item a queue `put`
 * accepted streams into its ring as consumers make room (queue.ts). A child process or thread that
 * ends waits for them first, as Python's process joins its queues' feeder threads at exit;
 * otherwise its last items would be cut off.
 */
import { isolateState } from "../isolate-state.js";

const pending = isolateState("@ipc/core:pending-writes", () => new Set<Promise<unknown>>());

/** Counts `write` as pending until it settles. */
export function trackPendingWrite(write: Promise<unknown>): void {
  pending.add(write);
  void write.then(
    () => pending.delete(write),
    () => pending.delete(write),
  );
}

/** Resolves once every pending write of this thread has settled (those started meanwhile too). */
export async function pendingWritesDone(): Promise<void> {
  while (pending.size > 0) await Promise.allSettled([...pending]);
}

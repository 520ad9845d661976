/**
 * What a thread does before it blocks. Some work of a thread moves on only while its event loop
 * runs: a pipe end's sends buffered while the pipe was full are moved into it by an async pump.
 * A blocking wait (`recvSync`, `getSync`, a lock's `acquireSync`, `waitSync`, ...) holds the event
 * loop, so if what it waits for depends on those messages (a child that answers only once it has
 * read them), both sides would wait for ever. Such work registers a mover here while it has
 * something pending; every blocking wait of this thread calls {@link beforeBlock} before it
 * sleeps, which runs the movers and, while any still has something left, cuts the sleep into
 * slices of {@link MOVE_ON_MS} so that they run again between them (each wait's caller re-checks
 * its condition after any wake-up, so a shorter sleep is a spurious wake-up to it).
 *
 * The registry is this module's own state, so it is per isolate: each thread has its own.
 */

/** Longest sleep of a blocking wait while a mover still has something pending (ms). */
export const MOVE_ON_MS = 1;

/** Moves what it can now; true when nothing is left for it to move while the thread is blocked. */
export type Mover = () => boolean;

const movers = new Set<Mover>();

/** Runs `mover` before each blocking wait of this thread until {@link removeMover}. */
export function addMover(mover: Mover): void {
  movers.add(mover);
}

/** Stops running `mover` before blocking waits. */
export function removeMover(mover: Mover): void {
  movers.delete(mover);
}

/**
 * Called by a blocking wait before it sleeps for `timeout` ms: runs this thread's movers and
 * returns how long the sleep may last (`timeout`, or {@link MOVE_ON_MS} while a mover has work
 * left). A wait that does not sleep (`timeout` 0: a try) runs none.
 */
export function beforeBlock(timeout: number): number {
  if (movers.size === 0 || timeout <= 0) return timeout;
  let left = false;
  for (const move of movers) if (!move()) left = true;
  return left ? Math.min(timeout, MOVE_ON_MS) : timeout;
}

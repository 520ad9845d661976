/** Python's `with lock:` for anything with acquire/release: run a body holding it, release however it ends. */
import { IpcError } from "../errors/errors.js";
import type { WaitOptions, WaitSyncOptions } from "./options.js";

/** Something that can be held: Lock, RLock, Semaphore. */
export interface Acquirable {
  acquire(opts?: WaitOptions): Promise<boolean>;
  acquireSync(opts?: WaitSyncOptions): boolean;
  release(): void;
}

/** Runs `fn` holding `lock`; throws IpcError when `opts.timeout` passes first. */
export async function runWithLock<R>(lock: Acquirable, fn: () => R | Promise<R>, opts: WaitOptions = {}): Promise<R> {
  if (!(await lock.acquire(opts))) throw new IpcError(`withLock: timed out acquiring the ${lock.constructor.name}`);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Runs `fn` holding `lock`, blocking the thread while acquiring. */
export function runWithLockSync<R>(lock: Acquirable, fn: () => R, opts: WaitSyncOptions = {}): R {
  if (!lock.acquireSync(opts)) throw new IpcError(`withLockSync: timed out acquiring the ${lock.constructor.name}`);
  try {
    return fn();
  } finally {
    lock.release();
  }
}

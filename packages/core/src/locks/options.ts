/** Options of every blocking async operation. */
export interface WaitOptions {
  /** Milliseconds to wait; 0 tries once; omitted waits forever. */
  timeout?: number;
  /** Cancels the wait; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of every blocking `*Sync` operation (they block the calling thread). */
export interface WaitSyncOptions {
  /** Milliseconds to wait; 0 tries once; omitted waits forever. */
  timeout?: number;
}

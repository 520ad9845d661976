/** Options of {@link Queue}. */
export interface QueueOptions {
  /** Most items the queue holds; `put` waits while it is full. 0 (the default) is unbounded. */
  maxSize?: number;
  /**
   * Bytes of the shared ring the items travel through, a power of two >= 4096; default 1 MiB.
   * Items of any size pass any ring (larger ones are streamed through it in pieces); a bigger
   * ring lets producers run further ahead of consumers.
   */
  ringSize?: number;
}

/** Options of a blocking async queue operation. */
export interface QueueWaitOptions {
  /** Milliseconds; 0 tries once; omitted waits forever. */
  timeout?: number;
  /** Cancels the wait (before the item is committed); rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of a blocking `*Sync` queue operation. */
export interface QueueWaitSyncOptions {
  /** Milliseconds; 0 tries once; omitted waits forever. */
  timeout?: number;
}

/** Options of {@link Queue.shutdown}. */
export interface ShutdownOptions {
  /** Discard the items in the queue (counting them as done for `join`), and fail gets at once. */
  immediate?: boolean;
}

/** Default ring size: 1 MiB. */
export const DEFAULT_RING_SIZE = 1 << 20;

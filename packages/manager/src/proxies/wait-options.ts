/** What every waiting method of a manager proxy takes (as every other wait in @ipc). */
export interface ProxyWaitOptions {
  /** Milliseconds to wait at most; default: no limit. */
  timeout?: number;
  /** Stops the wait: the call rejects with its reason and the server forgets it. */
  signal?: AbortSignal;
}

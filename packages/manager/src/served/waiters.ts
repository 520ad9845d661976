/**
 * A FIFO of parked calls on the server: a call parks until it is woken, its timeout passes or its
 * signal aborts (the client cancelled or went away). Every served lock, queue, event and barrier
 * waits with it; nothing on the server blocks a thread.
 */
import { Deadline } from "@ipc/core/internal";

interface Waiter {
  wake: (woken: boolean) => void;
}

/** Parked calls, woken first in, first out. */
export class Waiters {
  readonly #queue: Waiter[] = [];

  /** Parked calls now. */
  get size(): number {
    return this.#queue.length;
  }

  /**
   * Parks until {@link wakeOne}/{@link wakeAll} (true) or `timeout` ms (false). Rejects with the
   * signal's reason when it aborts first.
   */
  park(timeout: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (timeout <= 0) return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        const i = this.#queue.indexOf(w);
        if (i >= 0) this.#queue.splice(i, 1);
        if (timer) clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
      };
      const w: Waiter = {
        wake: (woken) => {
          done();
          resolve(woken);
        },
      };
      const onAbort = () => {
        done();
        reject(signal.reason as Error);
      };
      this.#queue.push(w);
      signal.addEventListener("abort", onAbort, { once: true });
      if (timeout !== Infinity) timer = setTimeout(() => w.wake(false), timeout);
    });
  }

  /** Wakes the longest-parked call; false when none was parked. */
  wakeOne(): boolean {
    const w = this.#queue[0];
    if (!w) return false;
    w.wake(true);
    return true;
  }

  /** Wakes every parked call. */
  wakeAll(): void {
    for (const w of [...this.#queue]) w.wake(true);
  }
}

/**
 * Waits until `ready()` holds, parking on `waiters` between checks; false when `timeout` ms pass
 * first. Each wake-up checks again (another call may have taken what woke it).
 */
export async function waitUntil(ready: () => boolean, waiters: Waiters, timeout: number, signal: AbortSignal): Promise<boolean> {
  const deadline = new Deadline(timeout);
  while (!ready()) {
    const left = deadline.remaining();
    if (left <= 0) return false;
    await waiters.park(left, signal);
  }
  return true;
}

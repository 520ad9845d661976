/**
 * A short, adaptive busy-wait before a receive goes to sleep (a pipe's `recv`, a queue's `get`).
 * An async wait costs a wake-up of the event loop by another thread (`Atomics.waitAsync`), 20-50
 * µs on this project's machines, as a `MessageChannel` round trip does; when the other side
 * answers within microseconds (a request and its reply, a producer a step ahead), checking the
 * ring for a few tens of microseconds first catches the message without that wake-up (an async
 * round trip between threads of about 2 µs instead of about 47 µs, measured). The spin blocks the
 * event loop while it runs, so it adapts: a spin that catches nothing makes the next one four
 * times shorter, down to none; a spin that catches a message, or a sleep that ended within
 * {@link HOT_MS}, gives it its full length again.
 */

/** The longest spin, in milliseconds. */
const MAX_MS = 0.03;
/** A spin shorter than this is not worth starting. */
const MIN_MS = 0.002;
/** A sleep that ends this soon means traffic is hot again: spin again next time. */
const HOT_MS = 0.2;
/** Ring checks between two looks at the clock. */
const CHECKS_PER_CLOCK = 16;

/** The spin of one receiving end. */
export class AdaptiveSpin {
  #ms = MAX_MS;

  /** Spins until `ready()` or this spin's time is up; true when ready. */
  spin(ready: () => boolean): boolean {
    const ms = this.#ms;
    if (ms < MIN_MS) return false;
    const start = performance.now();
    for (;;) {
      for (let i = 0; i < CHECKS_PER_CLOCK; i++) {
        if (ready()) {
          this.#ms = MAX_MS;
          return true;
        }
      }
      if (performance.now() - start >= ms) break;
    }
    this.#ms = ms / 4;
    return false;
  }

  /** A sleep that began at `since` (performance.now()) has ended with a message. */
  slept(since: number): void {
    if (performance.now() - since < HOT_MS) this.#ms = MAX_MS;
  }
}

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
 *
 * Between two looks at the clock the spin gives its CPU to any other runnable thread (the
 * addon's `sched_yield`; without the addon it cannot, and does not). On a machine with as many
 * busy threads as cores (two cores: the two ends and V8's compiler threads warming up a fresh
 * child), a spin that keeps its core can keep the very sender it waits for off one; both ends then
 * miss, sleep, and are woken ~100 µs late, round trip after round trip. Measured on two cores, 8
 * fresh children each, mean of their first 10,000 async round trips: 13.3-38.9 µs (thread child)
 * and 15.1-25.3 µs (process child) without yielding, 13.5-16.3 and 14.3-17.5 µs with it.
 */
import { nativeYieldCpu } from "../memory/native-memory.js";

/** The longest spin, in milliseconds. */
const MAX_MS = 0.03;
/** A spin shorter than this is not worth starting. */
const MIN_MS = 0.002;
/** A sleep that ends this soon means traffic is hot again: spin again next time. */
const HOT_MS = 0.2;
/** Ring checks between two looks at the clock. */
const CHECKS_PER_CLOCK = 16;

/** The addon's yield, looked up at the first spin (`null`: none). */
let yieldCpu: (() => void) | null | undefined;

/** The spin of one receiving end. */
export class AdaptiveSpin {
  #ms = MAX_MS;

  /** Spins until `ready()` or this spin's time is up; true when ready. */
  spin(ready: () => boolean): boolean {
    const ms = this.#ms;
    if (ms < MIN_MS) return false;
    if (yieldCpu === undefined) yieldCpu = nativeYieldCpu() ?? null;
    const start = performance.now();
    for (;;) {
      for (let i = 0; i < CHECKS_PER_CLOCK; i++) {
        if (ready()) {
          this.#ms = MAX_MS;
          return true;
        }
      }
      if (performance.now() - start >= ms) break;
      if (yieldCpu !== null) yieldCpu();
    }
    this.#ms = ms / 4;
    return false;
  }

  /** A sleep that began at `since` (performance.now()) has ended with a message. */
  slept(since: number): void {
    if (performance.now() - since < HOT_MS) this.#ms = MAX_MS;
  }
}

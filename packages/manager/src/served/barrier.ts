/**
 * The Barrier a manager serves (Python's `threading.Barrier` behind `SyncManager.Barrier()`):
 * `parties` callers meet, each gets a distinct index; a timeout, `abort()` or `reset()` breaks it
 * for everyone waiting (`BrokenBarrierError`). A waiter that is cancelled or disconnects breaks it
 * too, as a thread that leaves a barrier does.
 */
import { BrokenBarrierError } from "@ipc/core";
import { checkTimeout, Deadline } from "@ipc/core/internal";
import type { CallContext, Served } from "./call-context.js";
import { Waiters } from "./waiters.js";

/** A barrier held by the server. */
export class ManagedBarrier {
  readonly #parties: number;
  readonly #timeout: number;
  #count = 0;
  /** This round: replaced by a new one when the barrier trips or resets; `broken` ends it for its waiters. */
  #round = { broken: false };
  readonly #waiters = new Waiters();

  constructor(parties: unknown, timeout?: unknown) {
    if (typeof parties !== "number" || !Number.isInteger(parties) || parties < 1) throw new RangeError(`parties must be a positive integer, got ${String(parties)}`);
    this.#parties = parties;
    this.#timeout = checkTimeout(timeout);
  }

  #break(): void {
    this.#round.broken = true;
    this.#waiters.wakeAll();
  }

  async #wait(timeout: number, ctx: CallContext): Promise<number> {
    const round = this.#round;
    if (round.broken) throw new BrokenBarrierError("the barrier is broken");
    const index = this.#count++;
    if (this.#count === this.#parties) {
      this.#count = 0;
      this.#round = { broken: false };
      this.#waiters.wakeAll();
      return index;
    }
    const deadline = new Deadline(timeout);
    try {
      while (this.#round === round && !round.broken) {
        const left = deadline.remaining();
        if (left <= 0 || !(await this.#waiters.park(left, ctx.signal))) {
          if (this.#round === round) this.#break(); // timed out: the barrier breaks for everyone
        }
      }
    } catch (e) {
      if (this.#round === round) this.#break();
      throw e;
    }
    if (round.broken) throw new BrokenBarrierError("the barrier is broken");
    return index;
  }

  /** Methods a barrier proxy may call. */
  static readonly exposed: Served<ManagedBarrier> = {
    wait: (b, args, ctx) => b.#wait(args[0] === undefined ? b.#timeout : checkTimeout(args[0]), ctx),
    reset: (b) => {
      // the parties waiting now fail; the barrier starts over
      b.#break();
      b.#count = 0;
      b.#round = { broken: false };
    },
    abort: (b) => b.#break(),
    parties: (b) => b.#parties,
    nWaiting: (b) => b.#count,
    broken: (b) => b.#round.broken,
  };
}

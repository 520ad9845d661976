/** JoinableQueue on Redis: items are tasks that consumers mark done and producers wait for. */
import { ClosedError, InvalidStateError } from "@ipc/core";
import { checkSignal, checkTimeout, abortReason } from "@ipc/core/internal";
import { Queue, type QueueWaitOptions } from "./queue.js";
import { NotifiedWaits } from "./notified-wait.js";
import { TASK_DONE } from "./queue-scripts.js";
import { registerRedisHandle } from "./handle.js";

/**
 * A Queue with `taskDone()` and `join()`, as Python's `multiprocessing.JoinableQueue`, across
 * machines. The count of unfinished tasks lives in Redis: any client may `join`. An item a
 * consumer took stays its own until that consumer calls `taskDone()`: a consumer killed before
 * then gives it back (after `visibilityTimeout`), and the task is done by another.
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /** items this consumer took and has not marked done, oldest first */
  readonly #held: Buffer[] = [];
  #waits: NotifiedWaits | undefined;
  /** ids of this client's taskDone calls (see TASK_DONE) */
  #calls = 0;

  protected override get joinable(): boolean {
    return true;
  }

  protected override onHandOut(bytes: Buffer): void {
    this.#held.push(bytes);
  }

  protected override heldItems(): Buffer[] {
    return [...this.acks, ...this.#held];
  }

  /**
   * Marks one task done: the oldest item this client took and has not marked done (or, if it holds
   * none, a task another client took). @throws InvalidStateError when called more often than items were put.
   */
  async taskDone(): Promise<void> {
    const c = await this.cmd();
    const bytes = this.#held.shift();
    const n = (await TASK_DONE.run(c, [this.keys.proc, this.keys.unfinished, this.keys.done], [this.keys.joined, bytes ?? "", String(++this.#calls)])) as number;
    if (n === -1) {
      if (bytes !== undefined) this.#held.unshift(bytes);
      throw new InvalidStateError("taskDone() called too many times");
    }
  }

  /** Tasks put and not yet marked done, across every client. */
  async unfinishedTasks(): Promise<number> {
    return Number((await (await this.cmd()).get(this.keys.unfinished)) ?? 0);
  }

  /**
   * Waits until every task put (by any client) has been marked done. Resolves `true` then, or
   * `false` when `timeout` passes first (Python's `join` has no timeout).
   */
  async join(opts: QueueWaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    if (signal?.aborted) throw abortReason(signal);
    const c = await this.cmd();
    // subscribed before the count is read: a last taskDone in between still wakes us
    return (this.#waits ??= new NotifiedWaits(this.link, this.keys.joined)).wait(
      async () => Number((await c.get(this.keys.unfinished)) ?? 0) <= 0,
      timeout,
      signal,
      () => (this.closed ? new ClosedError(`${this} was closed`) : undefined),
    );
  }

  override async close(): Promise<void> {
    this.#held.length = 0;
    const err = new ClosedError(`${this} was closed`);
    this.#waits?.failAll(err);
    await super.close();
  }

  override toString(): string {
    return `JoinableQueue(${this.name})`;
  }
}

registerRedisHandle("JoinableQueue", (state) => new JoinableQueue(state as never));

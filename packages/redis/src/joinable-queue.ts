/** JoinableQueue on Redis: items are tasks that consumers mark done and producers wait for. */
import { ClosedError, InvalidStateError } from "@ipc/core";
import { checkSignal, checkTimeout, abortReason } from "@ipc/core/internal";
import type { Redis } from "ioredis";
import { Queue, type QueueWaitOptions } from "./queue.js";
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
  #sub: Promise<Redis> | undefined;
  /** pending joins: re-check the count, or fail */
  readonly #joins = new Map<() => void, (e: Error) => void>();

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
    const n = (await TASK_DONE.run(c, [this.keys.proc, this.keys.unfinished], [this.keys.joined, bytes ?? ""])) as number;
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
    await (this.#sub ??= this.#subscribe());
    if (this.closed) throw new ClosedError(`${this} was closed`);
    // subscribed before the count is read: a last taskDone in between still wakes us
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (v: boolean | Error): void => {
        if (!this.#joins.delete(check)) return;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const check = (): void => {
        c.get(this.keys.unfinished).then((n) => {
          if (Number(n ?? 0) <= 0) done(true);
        }, (e: Error) => done(e));
      };
      const onAbort = (): void => done(abortReason(signal!) as Error);
      this.#joins.set(check, done);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== Infinity) timer = setTimeout(() => done(false), timeout);
      check();
    });
  }

  async #subscribe(): Promise<Redis> {
    const b = await this.link.blocking();
    b.client.on("message", () => {
      for (const f of [...this.#joins.keys()]) f();
    });
    await b.client.subscribe(this.keys.joined);
    return b.client;
  }

  override async close(): Promise<void> {
    this.#held.length = 0;
    const err = new ClosedError(`${this} was closed`);
    for (const fail of [...this.#joins.values()]) fail(err);
    await super.close();
  }

  override toString(): string {
    return `JoinableQueue(${this.name})`;
  }
}

registerRedisHandle("JoinableQueue", (state) => new JoinableQueue(state as never));

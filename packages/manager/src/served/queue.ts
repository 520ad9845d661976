/**
 * The queue a manager serves (Python's `queue.Queue` behind `SyncManager.Queue()` and
 * `JoinableQueue()`): FIFO, bounded by `maxSize` (0: unbounded), with task accounting for `join`.
 */
import { EmptyError, FullError, InvalidStateError, ShutDownError } from "@ipc/core";
import { checkTimeout } from "@ipc/core/internal";
import type { CallContext, Served } from "./call-context.js";
import { waitUntil, Waiters } from "./waiters.js";

/** A queue held by the server. */
export class ManagedQueue {
  readonly #items: unknown[] = [];
  readonly #maxSize: number;
  readonly #notEmpty = new Waiters();
  readonly #notFull = new Waiters();
  readonly #allDone = new Waiters();
  #unfinished = 0;
  #shutDown = false;

  constructor(maxSize: unknown = 0) {
    if (typeof maxSize !== "number" || !Number.isInteger(maxSize) || maxSize < 0) throw new TypeError(`Expected \`maxSize\` to be a non-negative integer, got ${String(maxSize)}`);
    this.#maxSize = maxSize;
  }

  #full(): boolean {
    return this.#maxSize > 0 && this.#items.length >= this.#maxSize;
  }

  async #put(item: unknown, timeout: number, ctx: CallContext): Promise<void> {
    if (this.#shutDown) throw new ShutDownError("the queue is shut down");
    if (!(await waitUntil(() => !this.#full() || this.#shutDown, this.#notFull, timeout, ctx.signal))) throw new FullError("the queue is full");
    if (this.#shutDown) throw new ShutDownError("the queue is shut down");
    this.#items.push(item);
    this.#unfinished++;
    this.#notEmpty.wakeOne();
  }

  async #get(timeout: number, ctx: CallContext): Promise<unknown> {
    if (!(await waitUntil(() => this.#items.length > 0 || this.#shutDown, this.#notEmpty, timeout, ctx.signal))) throw new EmptyError("the queue is empty");
    if (this.#items.length === 0) throw new ShutDownError("the queue is shut down");
    const item = this.#items.shift();
    this.#notFull.wakeOne();
    return item;
  }

  /** Methods a queue proxy may call. */
  static readonly exposed: Served<ManagedQueue> = {
    put: (q, args, ctx) => q.#put(args[0], checkTimeout(args[1]), ctx),
    putNowait: (q, args, ctx) => q.#put(args[0], 0, ctx),
    get: (q, args, ctx) => q.#get(checkTimeout(args[0]), ctx),
    getNowait: (q, _args, ctx) => q.#get(0, ctx),
    qsize: (q) => q.#items.length,
    empty: (q) => q.#items.length === 0,
    full: (q) => q.#full(),
    taskDone: (q) => {
      if (q.#unfinished <= 0) throw new InvalidStateError("taskDone() called too many times");
      if (--q.#unfinished === 0) q.#allDone.wakeAll();
    },
    join: (q, args, ctx) => waitUntil(() => q.#unfinished === 0, q.#allDone, checkTimeout(args[0]), ctx.signal),
    shutdown: (q, args) => {
      // Python 3.13's Queue.shutdown(immediate): puts fail at once, gets drain what is left
      q.#shutDown = true;
      if (args[0] === true) {
        q.#unfinished -= q.#items.length;
        q.#items.length = 0;
        if (q.#unfinished <= 0) q.#allDone.wakeAll();
      }
      q.#notEmpty.wakeAll();
      q.#notFull.wakeAll();
    },
  };
}

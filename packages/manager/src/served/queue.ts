/**
 * The queue a manager serves (Python's `queue.Queue` behind `SyncManager.Queue()` and
 * `JoinableQueue()`): FIFO, bounded by `maxSize` (0: unbounded), with task accounting for `join`.
 */
import { EmptyError, FullError, InvalidStateError, ShutDownError } from "@ipc/core";
import { checkTimeout } from "@ipc/core/internal";
import { CALL, type CallContext, type ContextualObject } from "./call-context.js";
import { waitUntil, Waiters } from "./waiters.js";

/** Methods a queue proxy may call. */
export const QUEUE_EXPOSED = ["put", "get", "putNowait", "getNowait", "qsize", "empty", "full", "taskDone", "join", "shutdown"] as const;

/** A queue held by the server. */
export class ManagedQueue implements ContextualObject {
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

  [CALL](method: string, args: unknown[], ctx: CallContext): unknown {
    switch (method) {
      case "put":
        return this.#put(args[0], checkTimeout(args[1]), ctx);
      case "putNowait":
        return this.#put(args[0], 0, ctx);
      case "get":
        return this.#get(checkTimeout(args[0]), ctx);
      case "getNowait":
        return this.#get(0, ctx);
      case "qsize":
        return this.#items.length;
      case "empty":
        return this.#items.length === 0;
      case "full":
        return this.#full();
      case "taskDone":
        if (this.#unfinished <= 0) throw new InvalidStateError("taskDone() called too many times");
        if (--this.#unfinished === 0) this.#allDone.wakeAll();
        return undefined;
      case "join":
        return waitUntil(() => this.#unfinished === 0, this.#allDone, checkTimeout(args[0]), ctx.signal);
      case "shutdown":
        // Python 3.13's Queue.shutdown(immediate): puts fail at once, gets drain what is left
        this.#shutDown = true;
        if (args[0] === true) {
          this.#unfinished -= this.#items.length;
          this.#items.length = 0;
          if (this.#unfinished <= 0) this.#allDone.wakeAll();
        }
        this.#notEmpty.wakeAll();
        this.#notFull.wakeAll();
        return undefined;
      default:
        throw new InvalidStateError(`Queue has no method ${method}`);
    }
  }
}

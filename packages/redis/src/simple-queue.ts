/** SimpleQueue on Redis: an unbounded Queue with only get, put, empty and close, as Python's. */
import { Queue, type QueueOptions } from "./queue.js";
import { registerRedisHandle } from "./handle.js";

/** Options of a Redis {@link SimpleQueue}: no `maxSize`. */
export type SimpleQueueOptions = Omit<QueueOptions, "maxSize">;

/** An unbounded queue on Redis, as Python's `multiprocessing.SimpleQueue`. */
export class SimpleQueue<T = unknown> extends Queue<T> {
  constructor(opts: SimpleQueueOptions) {
    super({ ...opts, maxSize: undefined });
  }

  override toString(): string {
    return `SimpleQueue(${this.name})`;
  }
}

registerRedisHandle("SimpleQueue", (state) => new SimpleQueue(state as never));

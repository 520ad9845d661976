/** SimpleQueue: Python's `multiprocessing.SimpleQueue`, an unbounded queue with a small API. */
import { ClosedError } from "@ipc/core";
import { INTERNAL, registerShared, type SharedInit } from "@ipc/core/internal";
import { Queue } from "./queue.js";

/**
 * An unbounded queue: `put`, `get`, `empty`, `close` (and the `*Sync` forms). Unlike Queue, its
 * `empty()` throws once closed, as Python's does.
 */
export class SimpleQueue<T = unknown> extends Queue<T> {
  static override readonly handleType: string = "@ipc/queue:SimpleQueue";

  constructor(opts?: { ringSize?: number });
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<null>);
  constructor(opts?: { ringSize?: number } | typeof INTERNAL, init?: SharedInit<null>) {
    if (opts === INTERNAL) super(INTERNAL, init!);
    else super({ ringSize: opts?.ringSize });
  }

  override empty(): boolean {
    if (this.closed) throw new ClosedError("SimpleQueue is closed");
    return super.empty();
  }
}

registerShared<null>(SimpleQueue.handleType, (init: SharedInit<null>) => new SimpleQueue(INTERNAL, init));

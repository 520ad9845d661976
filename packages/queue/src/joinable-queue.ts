/** JoinableQueue: a Queue whose items are tasks that consumers mark done (`taskDone`) and producers wait for (`join`). */
import { InvalidStateError } from "@ipc/core";
import { checkSignal, checkTimeout, timeoutArg, Deadline, INTERNAL, registerShared, type Exposed, type SharedInit } from "@ipc/core/internal";

import type { QueueWaitOptions, QueueWaitSyncOptions } from "./options.js";
import { Queue } from "./queue.js";


/** A Queue with `taskDone()` and `join()`, as Python's `multiprocessing.JoinableQueue`. */
export class JoinableQueue<T = unknown> extends Queue<T> {
  static override readonly handleType: string = "@ipc/queue:JoinableQueue";

  protected override get joinable(): boolean {
    return true;
  }

  /** Marks one item taken with `get` as done. @throws InvalidStateError when called more often than items were put. */
  taskDone(): void {
    if (!this.ring!.taskDone()) throw new InvalidStateError("taskDone() called too many times");
  }

  /** Waits (without blocking the event loop) until every item put has been marked done. */
  async join(opts: QueueWaitOptions = {}): Promise<void> {
    this.check();
    const timeout = checkTimeout(opts.timeout);
    const signal = this.waitSignal(checkSignal(opts.signal));
    await this.joinLocal(timeout, signal);
  }

  /** As {@link join}, blocking the calling thread. @returns nothing; throws TimeoutError-free: returns when done or timed out. */
  joinSync(opts: QueueWaitSyncOptions = {}): void {
    this.check();
    const timeout = checkTimeout(opts.timeout);
    this.ring!.joinSync(new Deadline(timeout));
  }

  private async joinLocal(timeout: number, signal?: AbortSignal): Promise<boolean> {
    return this.ring!.joinAsync(new Deadline(timeout), signal);
  }

  /** The queue's remote methods, and `taskDone` and `join` (see SharedObject#serve). */
  static override readonly exposed: Exposed<Queue> = {
    ...Queue.exposed,
    taskDone: (q) => (q as JoinableQueue).taskDone(),
    join: async (q, args, call) => {
      await (q as JoinableQueue).joinLocal(timeoutArg(args, 0), call.signal);
    },
  };
}

registerShared<null>(JoinableQueue.handleType, (init: SharedInit<null>) => new JoinableQueue(INTERNAL, init));

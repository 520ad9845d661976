/** The proxy of a manager Queue or JoinableQueue. */
import { BaseProxy } from "../base-proxy.js";
import type { ProxyWaitOptions } from "./wait-options.js";

/**
 * A queue held by a manager: any thread or process with the proxy (or a client that connected)
 * puts and gets. Items are copied through the server, as in Python.
 */
export class QueueProxy<T = unknown> extends BaseProxy {
  /** Puts `item`, waiting for room in a bounded queue. @throws FullError after `timeout`, ShutDownError after `shutdown()`. */
  put(item: T, opts: ProxyWaitOptions = {}): Promise<void> {
    return this.callMethod("put", [item, opts.timeout], opts.signal) as Promise<void>;
  }
  /** Takes the oldest item, waiting for one. @throws EmptyError after `timeout`, ShutDownError once shut down and drained. */
  get(opts: ProxyWaitOptions = {}): Promise<T> {
    return this.callMethod("get", [opts.timeout], opts.signal) as Promise<T>;
  }
  /** `put` without waiting. @throws FullError */
  putNowait(item: T): Promise<void> {
    return this.callMethod("putNowait", [item]) as Promise<void>;
  }
  /** `get` without waiting. @throws EmptyError */
  getNowait(): Promise<T> {
    return this.callMethod("getNowait") as Promise<T>;
  }
  /** Items now in the queue. */
  qsize(): Promise<number> {
    return this.callMethod("qsize") as Promise<number>;
  }
  empty(): Promise<boolean> {
    return this.callMethod("empty") as Promise<boolean>;
  }
  full(): Promise<boolean> {
    return this.callMethod("full") as Promise<boolean>;
  }
  /** One item taken earlier is processed. @throws InvalidStateError when called more often than items were put. */
  taskDone(): Promise<void> {
    return this.callMethod("taskDone") as Promise<void>;
  }
  /** Waits until every item put has been marked done; false when `timeout` passed first. */
  join(opts: ProxyWaitOptions = {}): Promise<boolean> {
    return this.callMethod("join", [opts.timeout], opts.signal) as Promise<boolean>;
  }
  /** Puts fail from now on; gets drain what is left (all of it is dropped with `immediate`). */
  shutdown(opts: { immediate?: boolean } = {}): Promise<void> {
    return this.callMethod("shutdown", [opts.immediate === true]) as Promise<void>;
  }
  /** `for await (const item of q)`: gets until the queue is shut down and drained. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      try {
        yield await this.get();
      } catch (e) {
        if ((e as Error).name === "ShutDownError") return;
        throw e;
      }
    }
  }
}

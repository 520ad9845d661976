/** The proxies of a manager's Event and Barrier. */
import { BaseProxy } from "../base-proxy.js";
import type { ProxyWaitOptions } from "./wait-options.js";

/** A manager Event. */
export class EventProxy extends BaseProxy {
  set(): Promise<void> {
    return this.callMethod("set") as Promise<void>;
  }
  clear(): Promise<void> {
    return this.callMethod("clear") as Promise<void>;
  }
  isSet(): Promise<boolean> {
    return this.callMethod("isSet") as Promise<boolean>;
  }
  /** Waits until the flag is set; false when `timeout` passed first. */
  wait(opts: ProxyWaitOptions = {}): Promise<boolean> {
    return this.callMethod("wait", [opts.timeout], opts.signal) as Promise<boolean>;
  }
}

/** A manager Barrier. */
export class BarrierProxy extends BaseProxy {
  /**
   * Waits for the other parties; resolves with this caller's index (0 … parties-1). A timeout,
   * `abort()`, `reset()` or a waiter cancelled or gone breaks it. @throws BrokenBarrierError
   */
  wait(opts: ProxyWaitOptions = {}): Promise<number> {
    return this.callMethod("wait", opts.timeout === undefined ? [] : [opts.timeout], opts.signal) as Promise<number>;
  }
  reset(): Promise<void> {
    return this.callMethod("reset") as Promise<void>;
  }
  abort(): Promise<void> {
    return this.callMethod("abort") as Promise<void>;
  }
  parties(): Promise<number> {
    return this.callMethod("parties") as Promise<number>;
  }
  nWaiting(): Promise<number> {
    return this.callMethod("nWaiting") as Promise<number>;
  }
  broken(): Promise<boolean> {
    return this.callMethod("broken") as Promise<boolean>;
  }
}

/** The proxies of a manager's Value and Array. */
import { BaseProxy } from "../base-proxy.js";

/** A manager Value (Python's `.value` is `get()`/`set()`: every access is a call). */
export class ValueProxy<T = unknown> extends BaseProxy {
  get(): Promise<T> {
    return this.callMethod("get") as Promise<T>;
  }
  set(v: T): Promise<void> {
    return this.callMethod("set", [v]) as Promise<void>;
  }
  typecode(): Promise<string> {
    return this.callMethod("typecode") as Promise<string>;
  }
}

/** A manager Array. */
export class ArrayProxy<T = unknown> extends BaseProxy {
  /** @throws RangeError (Python's IndexError) out of range. */
  get(i: number): Promise<T> {
    return this.callMethod("get", [i]) as Promise<T>;
  }
  set(i: number, v: T): Promise<void> {
    return this.callMethod("set", [i, v]) as Promise<void>;
  }
  length(): Promise<number> {
    return this.callMethod("length") as Promise<number>;
  }
  toArray(): Promise<T[]> {
    return this.callMethod("toArray") as Promise<T[]>;
  }
  slice(start?: number, end?: number): Promise<T[]> {
    return this.callMethod("slice", [start, end]) as Promise<T[]>;
  }
  setAll(values: T[], offset = 0): Promise<void> {
    return this.callMethod("setAll", [values, offset]) as Promise<void>;
  }
  typecode(): Promise<string> {
    return this.callMethod("typecode") as Promise<string>;
  }
}

/**
 * Waitables: objects other than connections that `wait()` (@ipc/pipe) can wait on, such as a
 * process's sentinel (Python's `Process.sentinel` in `multiprocessing.connection.wait`). Defined
 * here so that neither package depends on the other.
 */

/** The key under which a waitable describes how to wait on it. */
export const waitable: unique symbol = Symbol.for("@ipc/core:waitable") as never;

/** Something `wait()` can wait on: ready once, for good. */
export interface Waitable {
  readonly [waitable]: {
    /** True once the object is ready (a process has ended). */
    ready(): boolean;
    /** Resolves when it is ready. Must not keep the event loop alive by itself. */
    whenReady(): Promise<void>;
  };
}

/** True when `value` is a {@link Waitable}. */
export function isWaitable(value: unknown): value is Waitable {
  return typeof value === "object" && value !== null && typeof (value as Partial<Waitable>)[waitable] === "object";
}

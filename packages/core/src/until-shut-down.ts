/** The async iteration of a queue: one `get()` per item, until the queue is shut down. */
import { ShutDownError } from "./errors/errors.js";

/**
 * An iterator whose `next()` is one `get()`, ending (done) at the first ShutDownError. Written out
 * rather than as an async generator: each item costs one promise here, where a generator's resume
 * and yield add several microtask turns (bench queue_async, for await).
 */
export function untilShutDown<T>(get: () => Promise<T>): AsyncIterableIterator<T> {
  const end: IteratorReturnResult<undefined> = { value: undefined, done: true };
  let finished = false;
  const onItem = (value: T): IteratorResult<T> => ({ value, done: false });
  const onError = (e: unknown): IteratorResult<T> => {
    if (e instanceof ShutDownError || (e as Error)?.name === "ShutDownError") {
      finished = true;
      return end;
    }
    throw e;
  };
  return {
    next: () => (finished ? Promise.resolve(end) : get().then(onItem, onError)),
    return: () => {
      finished = true;
      return Promise.resolve(end);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

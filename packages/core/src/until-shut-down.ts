/** The async iteration of a queue or a connection: one `get()` per item, until the end. */
import { ShutDownError } from "./errors/errors.js";

const isShutDown = (e: unknown): boolean => e instanceof ShutDownError || (e as Error)?.name === "ShutDownError";

/**
 * An iterator whose `next()` is one `get()`, ending (done) at the first error `isEnd` accepts
 * (other errors reject that `next()`). Written out rather than as an async generator: each item
 * costs one promise here, where a generator's resume and yield add several microtask turns (bench
 * queue_async and pipe_async, for await).
 */
export function untilEnd<T>(get: () => Promise<T>, isEnd: (e: unknown) => boolean): AsyncIterableIterator<T> {
  const end: IteratorReturnResult<undefined> = { value: undefined, done: true };
  let finished = false;
  const onItem = (value: T): IteratorResult<T> => ({ value, done: false });
  const onError = (e: unknown): IteratorResult<T> => {
    if (isEnd(e)) {
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

/** {@link untilEnd} at the first ShutDownError: the iteration of a queue. */
export function untilShutDown<T>(get: () => Promise<T>): AsyncIterableIterator<T> {
  return untilEnd(get, isShutDown);
}

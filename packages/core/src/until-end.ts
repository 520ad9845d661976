/** The async iteration of a queue or a connection: one `get()` per item, until the end. */
import { ShutDownError } from "./errors/errors.js";
import { NOT_NOW } from "./ring/ring.js";

const isShutDown = (e: unknown): boolean => e instanceof ShutDownError || (e as Error)?.name === "ShutDownError";

/**
 * An iterator whose `next()` is one `get()`, ending (done) at the first error `isEnd` accepts
 * (other errors reject that `next()`). Written out rather than as an async generator: each item
 * costs one promise here, where a generator's resume and yield add several microtask turns (bench
 * queue_async and pipe_async, for await). With `now` (an item if one is there at once, else
 * {@link NOT_NOW}), an item that is there costs no `get()` promise at all.
 */
export function untilEnd<T>(get: () => Promise<T>, isEnd: (e: unknown) => boolean, now?: () => T | typeof NOT_NOW): AsyncIterableIterator<T> {
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
  const next = (): Promise<IteratorResult<T>> => {
    if (finished) return Promise.resolve(end);
    if (now) {
      try {
        const v = now();
        if (v !== NOT_NOW) return Promise.resolve({ value: v, done: false });
      } catch (e) {
        try {
          return Promise.resolve(onError(e));
        } catch (rethrown) {
          return Promise.reject(rethrown);
        }
      }
    }
    return get().then(onItem, onError);
  };
  return {
    next,
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
export function untilShutDown<T>(get: () => Promise<T>, now?: () => T | typeof NOT_NOW): AsyncIterableIterator<T> {
  return untilEnd(get, isShutDown, now);
}

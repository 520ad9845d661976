/**
 * imap and imapUnordered over a task submitter: reads the input a bounded distance ahead (enough
 * to keep every worker busy between round trips, never the whole input) and yields results in
 * input order or as they complete.
 */
import { checkInt } from "@ipc/core/internal";
import type { MapOptions } from "./options.js";

/** Queues one task of `fn` over `items`; resolves with its values. */
export type Submit = (fn: string, items: unknown[], star: boolean, signal?: AbortSignal) => Promise<unknown[]>;

/** Yields `fn` over every item of `iterable`, `workers` being the pool's size. */
export async function* imapResults(
  submit: Submit,
  workers: number,
  name: string,
  iterable: Iterable<unknown> | AsyncIterable<unknown>,
  ordered: boolean,
  opts: MapOptions,
): AsyncGenerator<unknown> {
  const size = opts.chunkSize === undefined ? 1 : checkInt(opts.chunkSize, "chunkSize", 1);
  const source = (Symbol.asyncIterator in (iterable as object) ? (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (iterable as Iterable<unknown>)[Symbol.iterator]());
  // bounded read-ahead: enough to keep every worker busy between round trips, never the whole input
  const window = workers * Math.max(4, Math.ceil(64 / size));
  type Slot = { value?: unknown[]; error?: unknown; settled: boolean };
  const inflight: Slot[] = []; // submission order
  const settled: Slot[] = []; // completion order
  let wake: (() => void) | undefined;
  let exhausted = false;
  let inputError: { error: unknown } | undefined;
  let done = 0;
  const fill = async () => {
    while (!exhausted && !inputError && inflight.length < window) {
      const chunk: unknown[] = [];
      try {
        while (chunk.length < size) {
          const r = await source.next();
          if (r.done) {
            exhausted = true;
            break;
          }
          chunk.push(r.value);
        }
      } catch (error) {
        // the chunk the error fell in fails as a whole (as Python's imap): drop its items
        inputError = { error };
        break;
      }
      if (chunk.length > 0) {
        const slot: Slot = { settled: false };
        const settle = () => {
          slot.settled = true;
          settled.push(slot);
          wake?.();
        };
        submit(name, chunk, false, opts.signal).then(
          (v) => ((slot.value = v), settle()),
          (e) => ((slot.error = e), settle()),
        );
        inflight.push(slot);
      }
    }
  };
  await fill();
  while (inflight.length > 0) {
    const next = () => (ordered ? (inflight[0].settled ? inflight[0] : undefined) : settled[0]);
    let slot = next();
    while (!slot) {
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
      slot = next();
    }
    inflight.splice(inflight.indexOf(slot), 1);
    const k = settled.indexOf(slot);
    if (k >= 0) settled.splice(k, 1);
    // what the task threw, as it threw it (not always an Error)
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (slot.error !== undefined) throw slot.error;
    done += slot.value!.length;
    opts.onProgress?.(done, undefined);
    for (const v of slot.value!) yield v;
    await fill();
  }
  if (inputError) throw inputError.error;
}

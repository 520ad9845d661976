/** wait(): the connections that are ready to read, as `multiprocessing.connection.wait`. */
import { atomicsBackend, checkTimeout, Deadline } from "@ipc/core";
import type { Connection } from "./connection.js";

/** How often a long wait re-checks for ends whose holders died without closing (ms). */
const PROBE_MS = 200;

/**
 * Waits until at least one of `objects` is ready to read (a message is there, or its other end
 * is closed, so `recv` would not wait) and returns those that are, in the order given. Waits at
 * most `timeout` ms (omitted: forever; 0 or negative: answer at once) and returns `[]` on timeout.
 * @throws ClosedError for a closed connection, InvalidStateError for a send-only end.
 */
export async function wait<C extends Connection<any, any>>(objects: Iterable<C>, timeout?: number): Promise<C[]> {
  const list = [...objects];
  const deadline = new Deadline(checkTimeout(timeout));
  const words = list.map((c) => c.waitWord());
  for (;;) {
    const seqs = words.map((w) => Atomics.load(w.i32, w.index));
    const ready = list.filter((c) => c.readyNow());
    if (ready.length > 0 || list.length === 0) return ready;
    for (const c of list) c.wantMore();
    if (deadline.expired()) return ready;
    const stop = new AbortController();
    for (const w of words) Atomics.add(w.i32, w.counter, 1);
    try {
      const ms = Math.min(deadline.remaining(), PROBE_MS);
      await Promise.race(words.map((w, k) => atomicsBackend.waitAsync(w.i32, w.index, seqs[k]!, ms, stop.signal).catch(() => "aborted")));
    } finally {
      stop.abort();
      for (const w of words) Atomics.sub(w.i32, w.counter, 1);
    }
  }
}

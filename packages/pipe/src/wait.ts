/** wait(): the connections (and process sentinels) that are ready, as `multiprocessing.connection.wait`. */
import { checkTimeout, Deadline, isWaitable, registerSleeper, unregisterSleeper, waitable, type Waitable } from "@ipc/core/internal";
import { PROBE_MS } from "./channel.js";
import type { Connection } from "./connection.js";

/**
 * Waits until at least one of `objects` is ready and returns those that are, in the order given:
 * a connection when `recv` would not wait (a message is there, or its other end is closed), a
 * process's `sentinel` once the process has ended. Waits at most `timeout` ms (omitted: forever;
 * 0 or negative: answer at once) and returns `[]` on timeout.
 * @throws ClosedError for a closed connection, InvalidStateError for a send-only end.
 */
export async function wait<C extends Connection<any, any> | Waitable>(objects: Iterable<C>, timeout?: number): Promise<C[]> {
  const list = [...objects];
  const deadline = new Deadline(checkTimeout(timeout));
  const connections: Connection<any, any>[] = [];
  const others: Waitable[] = [];
  for (const o of list) {
    if (isWaitable(o)) others.push(o);
    else connections.push(o);
  }
  const words = connections.map((c) => c.waitWord());
  // tsc does not narrow the generic `C` in the false branch (typescript-eslint's view does)
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  const isReady = (o: C) => (isWaitable(o) ? o[waitable].ready() : (o as Connection<any, any>).readyNow());
  for (;;) {
    const seqs = words.map((w) => Atomics.load(w.i32, w.index));
    const ready = list.filter(isReady);
    if (ready.length > 0 || list.length === 0) return ready;
    for (const c of connections) c.wantMore();
    if (deadline.expired()) return ready;
    const stop = new AbortController();
    for (const w of words) registerSleeper(w.i32, w.counter);
    let timer: NodeJS.Timeout | undefined;
    try {
      const ms = Math.min(deadline.remaining(), PROBE_MS);
      await Promise.race([
        ...words.map((w, k) => w.backend.waitAsync(w.i32, w.index, seqs[k], ms, stop.signal).catch(() => "aborted")),
        ...others.map((o) => o[waitable].whenReady()),
        // keeps the event loop alive while only sentinels are waited on, and bounds each round
        new Promise<void>((r) => (timer = setTimeout(r, ms))),
      ]);
    } finally {
      clearTimeout(timer);
      stop.abort();
      for (const w of words) unregisterSleeper(w.i32, w.counter);
    }
  }
}

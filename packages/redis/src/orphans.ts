/**
 * Items a holder's list (a consumer's `proc`, a worker's `run`) has that its process does not
 * know it holds. A blocking take moves an item server-side; if the connection drops before the
 * reply arrives, ioredis sends the take again after reconnecting, and the first item sits in the
 * list of a live holder that never saw it (its lease keeps it from being reaped). Checked at each
 * lease renewal: an item unknown at two checks in a row (a reply in flight is not, for longer than
 * one renewal period) goes back to the head of the queue.
 */
import type { Redis } from "ioredis";
import { REQUEUE } from "./queue-scripts.js";

/** Tracks suspected orphans of one holder list between checks. */
export class OrphanCheck {
  #suspects = new Set<string>();

  constructor(
    private readonly list: string,
    private readonly items: string,
  ) {}

  /** Compares the list with `known` (the items this process holds); returns how many went back. */
  async check(c: Redis, known: readonly Buffer[]): Promise<number> {
    const all = await c.lrangeBuffer(this.list, 0, -1);
    if (all.length <= known.length && this.#suspects.size === 0) return 0;
    const left = new Map<string, number>();
    for (const k of known) left.set(k.toString("base64"), (left.get(k.toString("base64")) ?? 0) + 1);
    const unknown: Buffer[] = [];
    for (const b of all) {
      const key = b.toString("base64");
      const n = left.get(key) ?? 0;
      if (n > 0) left.set(key, n - 1);
      else unknown.push(b);
    }
    const next = new Set<string>();
    let back = 0;
    for (const b of unknown) {
      const key = b.toString("base64");
      if (this.#suspects.has(key)) {
        await REQUEUE.run(c, [this.list, this.items], [b]);
        back++;
      } else next.add(key);
    }
    this.#suspects = next;
    return back;
  }
}

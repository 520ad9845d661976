/**
 * Waits for a condition kept in Redis and announced on a channel (an Event's flag, a
 * JoinableQueue's count reaching 0). A waiter subscribes first, then reads the condition, and
 * reads it again at each message and after each reconnect: a change between the two, or while the
 * connection was down, still wakes it. One subscribed connection serves every wait of an object.
 */
import { abortReason } from "@ipc/core/internal";
import type { Link } from "./connection.js";

/** The waits on one channel. */
export class NotifiedWaits {
  /** pending waits: re-check the condition, or fail */
  readonly #waits = new Map<() => void, (e: Error) => void>();
  #sub: Promise<unknown> | undefined;

  constructor(
    private readonly link: Link,
    private readonly channel: string,
  ) {}

  #recheck(): void {
    for (const f of [...this.#waits.keys()]) f();
  }

  async #subscribe(): Promise<void> {
    const b = await this.link.blocking();
    b.client.on("message", () => this.#recheck());
    // after a reconnect ioredis subscribes again; what changed meanwhile is seen by reading again
    b.client.on("ready", () => this.#recheck());
    await b.client.subscribe(this.channel);
  }

  /**
   * Resolves `true` once `holds()` resolves true, `false` when `timeout` ms pass first; rejects with
   * the signal's reason, or with `holds()`'s error. `closed()` is asked once subscribed.
   */
  async wait(holds: () => Promise<boolean>, timeout: number, signal: AbortSignal | undefined, closed: () => Error | undefined): Promise<boolean> {
    await (this.#sub ??= this.#subscribe());
    const err = closed();
    if (err) throw err;
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (v: boolean | Error): void => {
        if (!this.#waits.delete(check)) return;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const check = (): void => {
        holds().then((yes) => {
          if (yes) done(true);
        }, (e: Error) => done(e));
      };
      const onAbort = (): void => done(abortReason(signal!) as Error);
      this.#waits.set(check, done);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== Infinity) timer = setTimeout(() => done(false), timeout);
      check();
    });
  }

  /** Rejects every pending wait with `err`. */
  failAll(err: Error): void {
    for (const fail of [...this.#waits.values()]) fail(err);
  }
}

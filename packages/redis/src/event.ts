/**
 * Event on Redis: a flag every client that names it shares. Keys of an event named `e`:
 * `ipc:{e}:flag` (exists while set) and the channel `ipc:{e}:set` (published by `set()`).
 * A waiter subscribes before it reads the flag, so a `set()` between the two still wakes it.
 */
import { ClosedError } from "@ipc/core";
import { abortReason, checkSignal, checkTimeout } from "@ipc/core/internal";
import type { Redis } from "ioredis";
import { type BlockingClient, checkName, keyOf, Link, type RedisObjectOptions } from "./connection.js";
import { toHandle, type HandleDescriptor } from "@ipc/core";
import { describeHandle, registerRedisHandle, type HandleState } from "./handle.js";

/** Options of `wait`. */
export interface EventWaitOptions {
  /** Milliseconds; omitted waits forever. */
  timeout?: number;
  /** Cancels the wait; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Python's `Event` across machines: `set`, `clear`, `isSet`, `wait`. */
export class Event {
  /** The name in Redis. */
  readonly name: string;
  readonly #link: Link;
  readonly #flag: string;
  readonly #channel: string;
  #sub: Promise<BlockingClient> | undefined;
  /** pending waits: re-check the flag, or fail */
  readonly #waits = new Map<() => void, (e: Error) => void>();
  #closed = false;

  readonly #handleOpts: HandleState;

  constructor(opts: RedisObjectOptions) {
    this.#handleOpts = opts as unknown as HandleState;
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be { connection, name }");
    this.name = checkName(opts.name);
    const prefix = opts.prefix ?? "ipc";
    this.#flag = keyOf(prefix, this.name, "flag");
    this.#channel = keyOf(prefix, this.name, "set");
    this.#link = new Link(opts.connection);
  }

  async #cmd(): Promise<Redis> {
    if (this.#closed) throw new ClosedError(`${this} is closed`);
    return this.#link.cmd;
  }

  /** True while the flag is set. */
  async isSet(): Promise<boolean> {
    return (await (await this.#cmd()).exists(this.#flag)) === 1;
  }

  /** Sets the flag and wakes every waiter, in every process. */
  async set(): Promise<void> {
    const c = await this.#cmd();
    await c.multi().set(this.#flag, "1").publish(this.#channel, "1").exec();
  }

  /** Clears the flag. */
  async clear(): Promise<void> {
    await (await this.#cmd()).del(this.#flag);
  }

  /** Waits until the flag is set: `true`, or `false` when `timeout` passed first. */
  async wait(opts: EventWaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    if (signal?.aborted) throw abortReason(signal);
    const c = await this.#cmd();
    if (timeout === 0) return (await c.exists(this.#flag)) === 1;
    await (this.#sub ??= this.#subscribe());
    if (this.#closed) throw new ClosedError(`${this} was closed`);
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
        c.exists(this.#flag).then((n) => {
          if (n === 1) done(true);
        }, (e: Error) => done(e));
      };
      const onAbort = (): void => done(abortReason(signal!) as Error);
      this.#waits.set(check, done);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeout !== Infinity) timer = setTimeout(() => done(false), timeout);
      check();
    });
  }

  async #subscribe(): Promise<BlockingClient> {
    const b = await this.#link.blocking();
    b.client.on("message", () => {
      for (const f of [...this.#waits.keys()]) f();
    });
    // after a reconnect ioredis subscribes again; a set() missed meanwhile is seen by re-reading the flag
    b.client.on("ready", () => {
      for (const f of [...this.#waits.keys()]) f();
    });
    await b.client.subscribe(this.#channel);
    return b;
  }

  /** Closes the connections; pending waits reject with ClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const err = new ClosedError(`${this} was closed`);
    for (const fail of [...this.#waits.values()]) fail(err);
    this.#link.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal how a child gets this object: the same connection and name */
  [toHandle](): HandleDescriptor {
    return describeHandle(this.constructor.name, this.#handleOpts, import.meta.url);
  }

  toString(): string {
    return `Event(${this.name})`;
  }
}

registerRedisHandle("Event", (state) => new Event(state as never));

/**
 * Event on Redis: a flag every client that names it shares. Keys of an event named `e`:
 * `ipc:{e}:flag` (exists while set) and the channel `ipc:{e}:set` (published by `set()`).
 * A waiter subscribes before it reads the flag, so a `set()` between the two still wakes it.
 */
import { ClosedError } from "@ipc/core";
import { abortReason, checkSignal, checkTimeout } from "@ipc/core/internal";
import type { Redis } from "ioredis";
import { checkName, keyOf, Link, type RedisObjectOptions } from "./connection.js";
import { NotifiedWaits } from "./notified-wait.js";
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
  readonly #waits: NotifiedWaits;
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
    this.#waits = new NotifiedWaits(this.#link, this.#channel);
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
    return this.#waits.wait(
      async () => (await c.exists(this.#flag)) === 1,
      timeout,
      signal,
      () => (this.#closed ? new ClosedError(`${this} was closed`) : undefined),
    );
  }

  /** Closes the connections; pending waits reject with ClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const err = new ClosedError(`${this} was closed`);
    this.#waits.failAll(err);
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

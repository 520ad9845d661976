/**
 * Semaphore on Redis: `value` permits shared by every client that names it. A permit is a lease
 * (a token with an expiry in Redis) that its holder renews every `leaseMs / 3` while it holds it;
 * the permit of a holder that died comes back once its lease has run out. Scripts and keys:
 * lease-scripts.ts.
 */
import { ClosedError, InvalidStateError, TimeoutError } from "@ipc/core";
import { abortReason, checkInt, checkSignal, checkTimeout } from "@ipc/core/internal";
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { type BlockingClient, checkName, keyOf, Link, type RedisObjectOptions } from "./connection.js";
import { uniqueId } from "./ids.js";
import { ACQUIRE, HELD, RELEASE, RENEW } from "./lease-scripts.js";
import { blockSeconds, Waiter } from "./waiter.js";
import { toHandle, type HandleDescriptor } from "@ipc/core";
import { describeHandle, registerRedisHandle, type HandleState } from "./handle.js";

/** Options of a Redis {@link Semaphore}. */
export interface SemaphoreOptions extends RedisObjectOptions {
  /** Permits; default 1. Every client of one name should pass the same value. */
  value?: number;
  /**
   * Milliseconds a permit lasts without renewal; default 30,000. Holders renew on the event loop
   * every `leaseMs / 3`: a holder whose event loop is blocked for longer loses its permit.
   */
  leaseMs?: number;
}

/** Options of `acquire`. */
export interface AcquireOptions {
  /** Milliseconds; 0 tries once; omitted waits forever. */
  timeout?: number;
  /** Cancels the wait; rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** A counting semaphore on Redis whose permits are leases. */
export class Semaphore {
  /** The name in Redis. */
  readonly name: string;
  /** Permits (as this client was told). */
  readonly value: number;
  readonly #leaseMs: number;
  readonly #link: Link;
  readonly #holders: string;
  readonly #wake: string;
  /** The key holding the token this object released last (see lease-scripts.ts). */
  readonly #released: string;
  /** tokens of the permits this object holds, oldest first */
  readonly #held: string[] = [];
  #renewTimer: NodeJS.Timeout | undefined;
  #conn: BlockingClient | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #blocked: Waiter<boolean> | undefined;
  #closed = false;

  readonly #handleOpts: HandleState;

  constructor(opts: SemaphoreOptions) {
    this.#handleOpts = opts as unknown as HandleState;
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be { connection, name, ... }");
    this.name = checkName(opts.name);
    this.value = opts.value === undefined ? 1 : checkInt(opts.value, "value", 1);
    this.#leaseMs = opts.leaseMs === undefined ? 30_000 : checkInt(opts.leaseMs, "leaseMs", 30);
    const prefix = opts.prefix ?? "ipc";
    this.#holders = keyOf(prefix, this.name, "holders");
    this.#wake = keyOf(prefix, this.name, "wake");
    this.#released = keyOf(prefix, this.name, `released:${uniqueId()}`);
    this.#link = new Link(opts.connection);
  }

  async #cmd(): Promise<Redis> {
    if (this.#closed) throw new ClosedError(`${this} is closed`);
    return this.#link.cmd;
  }

  /** Takes one permit, waiting while none is free. Resolves `true`, or `false` when `timeout` passes first. */
  async acquire(opts: AcquireOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    if (signal?.aborted) throw abortReason(signal);
    const c = await this.#cmd();
    const token = randomBytes(12).toString("base64url");
    const once = async (): Promise<number> => {
      const r = (await ACQUIRE.run(c, [this.#holders], [token, this.value, this.#leaseMs])) as number;
      if (r === -1) this.#hold(c, token);
      return r;
    };
    let until = await once();
    if (until === -1) return true;
    if (timeout === 0) return false;
    const w = new Waiter<boolean>(timeout, signal, (x) => {
      if (this.#blocked === x) void this.#link.unblock(this.#conn);
    });
    // one acquire of this object waits at a time (one blocking connection)
    const run = this.#chain.then(async () => {
      for (;;) {
        if (w.settled) return;
        const left = w.left();
        if (left <= 0) return void w.resolve(false);
        const b = (this.#conn ??= await this.#link.blocking());
        this.#blocked = w;
        try {
          // woken by a release, or when the first lease runs out (its holder may have died)
          await b.client.blpop(this.#wake, blockSeconds(Math.min(left, until + 5)));
        } finally {
          this.#blocked = undefined;
        }
        if (this.#closed) return void w.reject(new ClosedError(`${this} is closed`));
        if (w.settled) return;
        until = await once();
        if (until === -1) {
          // acquired: unless the caller left meanwhile, then the permit goes straight back
          if (!w.resolve(true)) await this.#giveBack(c, token);
          return;
        }
      }
    });
    this.#chain = run.catch((e) => w.reject(e));
    return w.promise;
  }

  /** `acquire` with `timeout: 0`. */
  tryAcquire(): Promise<boolean> {
    return this.acquire({ timeout: 0 });
  }

  #hold(c: Redis, token: string): void {
    this.#held.push(token);
    if (this.#renewTimer !== undefined) return;
    this.#renewTimer = setInterval(() => {
      if (this.#held.length === 0) return;
      RENEW.run(c, [this.#holders], [this.#leaseMs, ...this.#held]).catch(() => {});
    }, Math.max(10, Math.floor(this.#leaseMs / 3)));
    this.#renewTimer.unref();
  }

  async #giveBack(c: Redis, token: string): Promise<boolean> {
    const i = this.#held.indexOf(token);
    if (i >= 0) this.#held.splice(i, 1);
    if (this.#held.length === 0 && this.#renewTimer !== undefined) {
      clearInterval(this.#renewTimer);
      this.#renewTimer = undefined;
    }
    return ((await RELEASE.run(c, [this.#holders, this.#wake, this.#released], [token])) as number) === 1;
  }

  /**
   * Gives back the oldest permit this object holds, waking one waiter anywhere.
   * @throws InvalidStateError when this object holds no permit, or its lease ran out (another client may hold it now).
   */
  async release(): Promise<void> {
    const c = await this.#cmd();
    const token = this.#held[0];
    if (token === undefined) throw new InvalidStateError(`${this}: release() without a permit held by this object`);
    if (!(await this.#giveBack(c, token))) {
      throw new InvalidStateError(`${this}: the permit's lease ran out before release() (its event loop was blocked for longer than leaseMs?)`);
    }
  }

  /** Permits free now, across every client. */
  async getValue(): Promise<number> {
    return Math.max(0, this.value - ((await HELD.run(await this.#cmd(), [this.#holders])) as number));
  }

  /** Permits this object holds. */
  get heldByMe(): number {
    return this.#held.length;
  }

  /** Runs `fn` holding a permit, and gives it back however `fn` ends. @throws TimeoutError when no permit came within `timeout`. */
  async withLock<R>(fn: () => R | Promise<R>, opts: AcquireOptions = {}): Promise<R> {
    if (!(await this.acquire(opts))) throw new TimeoutError(`${this}: not acquired within ${opts.timeout} ms`);
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }

  /** Gives back every permit this object holds and closes its connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#blocked?.reject(new ClosedError(`${this} is closed`));
    if (this.#conn) this.#link.release(this.#conn);
    const c = await this.#link.cmd.catch(() => undefined);
    if (c !== undefined) {
      for (const t of [...this.#held]) await this.#giveBack(c, t).catch(() => false);
      await c.del(this.#released).catch(() => 0);
    }
    clearInterval(this.#renewTimer);
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
    return `${this.constructor.name}(${this.name})`;
  }
}

registerRedisHandle("Semaphore", (state) => new Semaphore(state as never));

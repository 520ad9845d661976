/**
 * Queue on Redis: the API of `@ipc/queue`'s Queue, shared by every process on any machine that
 * names the same Redis and queue name. Key layout and scripts: queue-scripts.ts.
 *
 * Delivery is at least once. A `get` moves the item into the consumer's own `proc` list in the
 * same step that takes it; the item leaves that list when the consumer is done with it (a plain
 * Queue: at its next `get` or `close`; a JoinableQueue: at `taskDone`). A consumer renews its
 * lease every `visibilityTimeout / 3`; once a lease has expired (the consumer was killed, or its
 * event loop was blocked for longer than `visibilityTimeout`), any client moves that consumer's
 * items back to the head of the queue, and a live consumer gets them.
 */
import { ClosedError, EmptyError, FullError, ShutDownError, SerializationError } from "@ipc/core";
import { checkInt, checkSignal, checkTimeout, abortReason, untilShutDown } from "@ipc/core/internal";
import type { Redis } from "ioredis";
import { DEFAULT_MAX_VALUE_BYTES, decode, encode } from "./codec.js";
import { type BlockingClient, checkName, keyOf, Link, type RedisObjectOptions } from "./connection.js";
import { uniqueId } from "./ids.js";
import { OrphanCheck } from "./orphans.js";
import { LEAVE, PUT, REAP, REQUEUE, ROOM, SHUTDOWN, TAKE } from "./queue-scripts.js";
import { blockSeconds, Waiter } from "./waiter.js";
import { toHandle, type HandleDescriptor } from "@ipc/core";
import { describeHandle, registerRedisHandle, type HandleState } from "./handle.js";

/** Options of a Redis {@link Queue}. */
export interface QueueOptions extends RedisObjectOptions {
  /** Most items the queue holds; `put` waits while it is full. 0 (the default) is unbounded. Stored in Redis: the last client to pass it sets it for all. */
  maxSize?: number;
  /**
   * Milliseconds a consumer may go without renewing its lease before its unfinished items go back
   * to the queue; default 30,000. Renewal runs on the event loop: keep it larger than the longest
   * time your consumer blocks its event loop.
   */
  visibilityTimeout?: number;
  /** Largest encoded item in bytes; default 16 MiB. A larger one throws `MessageTooLargeError`. */
  maxValueBytes?: number;
}

/** Options of a waiting queue call. */
export interface QueueWaitOptions {
  /** Milliseconds; 0 tries once; omitted waits forever. */
  timeout?: number;
  /** Cancels the wait; rejects with `signal.reason`. An item taken at that moment goes back to the head of the queue. */
  signal?: AbortSignal;
}

/** Options of {@link Queue.shutdown}. */
export interface ShutdownOptions {
  /** Discard the items in the queue (counting them as done for `join`), and fail gets at once. */
  immediate?: boolean;
}

type Keys = {
  items: string;
  proc: string;
  alive: string;
  consumers: string;
  max: string;
  room: string;
  unfinished: string;
  shutdown: string;
  waiters: string;
  joined: string;
  done: string;
  base: string;
};

/** A FIFO queue on Redis, as Python's `multiprocessing.Queue` but across machines. */
export class Queue<T = unknown> {
  /** The queue's name in Redis. */
  readonly name: string;
  /** @internal */
  protected readonly link: Link;
  /** @internal */
  protected readonly keys: Keys;
  /** @internal this consumer's id */
  protected readonly consumer = uniqueId();
  readonly #leaseMs: number;
  readonly #maxValueBytes: number;
  readonly #ready: Promise<void>;
  /** items handed to callers and not yet acknowledged (plain Queue: acked by the next get) */
  protected acks: Buffer[] = [];
  #closed = false;
  #leaseTimer: NodeJS.Timeout | undefined;
  readonly #getWaiters: Waiter<T>[] = [];
  #getLooping = false;
  #getConn: BlockingClient | undefined;
  /** a blocking take is waiting on behalf of the waiting gets */
  #blocking = false;
  #putConn: BlockingClient | undefined;
  #putChain: Promise<unknown> = Promise.resolve();
  #blockedPut: Waiter<void> | undefined;

  readonly #handleOpts: HandleState;

  constructor(opts: QueueOptions) {
    this.#handleOpts = opts as unknown as HandleState;
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be { connection, name, ... }");
    this.name = checkName(opts.name);
    const prefix = opts.prefix ?? "ipc";
    const k = (part: string): string => keyOf(prefix, this.name, part);
    this.keys = {
      items: k("items"),
      proc: k(`proc:${this.consumer}`),
      alive: k(`alive:${this.consumer}`),
      consumers: k("consumers"),
      max: k("max"),
      room: k("room"),
      unfinished: k("unfinished"),
      shutdown: k("shutdown"),
      waiters: k("waiters"),
      joined: k("joined"),
      done: k(`done:${this.consumer}`),
      base: k(""),
    };
    const maxSize = opts.maxSize === undefined ? undefined : checkInt(opts.maxSize, "maxSize");
    this.#leaseMs = opts.visibilityTimeout === undefined ? 30_000 : checkInt(opts.visibilityTimeout, "visibilityTimeout", 30);
    this.#maxValueBytes = opts.maxValueBytes === undefined ? DEFAULT_MAX_VALUE_BYTES : checkInt(opts.maxValueBytes, "maxValueBytes", 16);
    this.link = new Link(opts.connection);
    this.#ready = this.link.cmd.then(async (c) => {
      if (maxSize !== undefined) await (maxSize > 0 ? c.set(this.keys.max, String(maxSize)) : c.del(this.keys.max));
    });
    this.#ready.catch(() => {});
  }

  /** @internal true for JoinableQueue: puts count unfinished tasks */
  protected get joinable(): boolean {
    return false;
  }

  /** @internal the command connection, once the queue is ready */
  protected async cmd(): Promise<Redis> {
    if (this.#closed) throw new ClosedError(`Queue ${this.name} is closed`);
    await this.#ready;
    return this.link.cmd;
  }

  /** Puts `item` at the tail, waiting while the queue is full. @throws FullError on timeout, ShutDownError after `shutdown`, MessageTooLargeError, SerializationError. */
  async put(item: T, opts: QueueWaitOptions = {}): Promise<void> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    if (signal?.aborted) throw abortReason(signal);
    const bytes = encode(item, this.#maxValueBytes, "item");
    const c = await this.cmd();
    const joinable = this.joinable ? "1" : "0";
    const once = async (): Promise<boolean> => {
      const r = (await PUT.run(c, [this.keys.items, this.keys.shutdown, this.keys.max, this.keys.unfinished], [bytes, joinable])) as number;
      if (r === -1) throw new ShutDownError(`Queue ${this.name} is shut down`);
      return r === 1;
    };
    if (await once()) return;
    if (timeout === 0) throw new FullError(`Queue ${this.name} is full`);
    const w = new Waiter<void>(timeout, signal, (x) => {
      if (this.#blockedPut === x) void this.link.unblock(this.#putConn);
    });
    // one producer of this object waits for room at a time (one blocking connection)
    const run = this.#putChain.then(async () => {
      for (;;) {
        if (w.settled) return;
        if (await once()) return void w.resolve();
        const left = w.left();
        if (left <= 0) return void w.reject(new FullError(`Queue ${this.name} is full`));
        const b = (this.#putConn ??= await this.link.blocking());
        await c.hset(this.keys.waiters, String(await b.id()), "1");
        this.#blockedPut = w;
        try {
          await b.client.blpop(this.keys.room, blockSeconds(left));
        } finally {
          this.#blockedPut = undefined;
        }
        if (this.#closed) return void w.reject(new ClosedError(`Queue ${this.name} is closed`));
      }
    });
    this.#putChain = run.catch((e) => w.reject(e));
    return w.promise;
  }

  /** `put` with `timeout: 0`. */
  putNowait(item: T): Promise<void> {
    return this.put(item, { timeout: 0 });
  }

  /** Removes and returns the item at the head, waiting while the queue is empty. @throws EmptyError on timeout, ShutDownError once shut down and empty. */
  async get(opts: QueueWaitOptions = {}): Promise<T> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    if (signal?.aborted) throw abortReason(signal);
    const c = await this.cmd();
    this.#startLease(c);
    if (this.#getWaiters.length === 0) {
      const [r] = await this.#take(c, 1, "");
      if (r !== undefined) return this.#handOut(r);
      if (timeout === 0) throw new EmptyError(`Queue ${this.name} is empty`);
    }
    const w = new Waiter<T>(timeout, signal, (x) => {
      const i = this.#getWaiters.indexOf(x);
      if (i >= 0) this.#getWaiters.splice(i, 1);
      // the blocked take serves every waiter: interrupt it only when none is left
      if (this.#getWaiters.length === 0 && this.#blocking) void this.link.unblock(this.#getConn);
    });
    this.#getWaiters.push(w);
    void this.#getLoop(c);
    return w.promise;
  }

  /** `get` with `timeout: 0`. */
  getNowait(): Promise<T> {
    return this.get({ timeout: 0 });
  }

  /**
   * One non-blocking take of up to `count` items (acknowledging what this consumer finished):
   * the items, none when the queue is empty. @throws ShutDownError when shut down and empty.
   */
  async #take(c: Redis, count: number, waiterId: string): Promise<Buffer[]> {
    const acks = this.acks;
    this.acks = [];
    let r: unknown;
    try {
      const k = this.keys;
      r = await TAKE.run(c, [k.items, k.proc, k.shutdown, k.max, k.room, k.waiters], [count, waiterId, ...acks]);
    } catch (e) {
      this.acks.push(...acks);
      throw e;
    }
    if (!Array.isArray(r)) throw new ShutDownError(`Queue ${this.name} is shut down`);
    return r as Buffer[];
  }

  /** Decodes a taken item and records it as handed out. Bytes that do not decode are dropped (acknowledged) and reported. */
  #handOut(bytes: Buffer): T {
    this.onHandOut(bytes);
    try {
      return decode<T>(bytes);
    } catch (e) {
      throw new SerializationError(`Queue ${this.name}: an item in Redis is not valid @ipc codec bytes (dropped): ${(e as Error).message}`);
    }
  }

  /** @internal records an item handed to a caller (JoinableQueue keeps it until taskDone) */
  protected onHandOut(bytes: Buffer): void {
    this.acks.push(bytes);
  }

  /**
   * Serves the waiting gets of this object: takes as many items as there are waiters in one
   * script; when the queue is empty, one blocking take (on its own connection) waits for the next
   * item on behalf of all of them, for as long as the nearest deadline allows.
   */
  async #getLoop(c: Redis): Promise<void> {
    if (this.#getLooping) return;
    this.#getLooping = true;
    try {
      while (this.#getWaiters.length > 0 && !this.#closed) {
        const b = (this.#getConn ??= await this.link.blocking());
        const id = String(await b.id());
        let items: Buffer[];
        try {
          items = await this.#take(c, Math.min(this.#getWaiters.length, 256), id);
        } catch (e) {
          for (const x of this.#getWaiters.splice(0)) x.reject(e);
          continue;
        }
        if (items.length > 0) {
          for (const item of items) await this.#give(c, item);
          continue;
        }
        // empty: fail the waiters whose time is up, then block until the nearest deadline
        let left = Infinity;
        for (const w of [...this.#getWaiters]) {
          const l = w.left();
          if (l <= 0) {
            this.#getWaiters.splice(this.#getWaiters.indexOf(w), 1);
            w.reject(new EmptyError(`Queue ${this.name} is empty`));
          } else left = Math.min(left, l);
        }
        if (this.#getWaiters.length === 0) continue;
        this.#blocking = true;
        let bytes: Buffer | null;
        try {
          bytes = await b.client.blmoveBuffer(this.keys.items, this.keys.proc, "RIGHT", "LEFT", blockSeconds(left));
        } finally {
          this.#blocking = false;
        }
        if (bytes === null) continue;
        void ROOM.run(c, [this.keys.max, this.keys.room]).catch(() => {});
        await this.#give(c, bytes);
      }
    } catch (e) {
      for (const x of this.#getWaiters.splice(0)) x.reject(e);
    } finally {
      this.#getLooping = false;
    }
  }

  /** Hands a taken item to the first waiting get; with none left (aborted meanwhile), puts it back at the head. */
  async #give(c: Redis, bytes: Buffer): Promise<void> {
    const head = this.#getWaiters.shift();
    if (head === undefined || this.#closed) {
      await REQUEUE.run(c, [this.keys.proc, this.keys.items], [bytes]);
      return;
    }
    try {
      head.resolve(this.#handOut(bytes));
    } catch (e) {
      head.reject(e);
    }
  }

  /** @internal the items this consumer holds (taken and handed out, not yet done) */
  protected heldItems(): Buffer[] {
    return this.acks;
  }

  #startLease(c: Redis): void {
    if (this.#leaseTimer !== undefined) return;
    const every = Math.max(10, Math.floor(this.#leaseMs / 3));
    const orphans = new OrphanCheck(this.keys.proc, this.keys.items);
    let ticks = 0;
    const renew = (): void => {
      if (ticks > 0) void orphans.check(c, this.heldItems()).catch(() => {});
      // renew this consumer's lease; every third tick, return what dead consumers held
      // renewed with its membership: a reaper may have dropped a consumer that was too slow to renew
      const p = c.multi().sadd(this.keys.consumers, this.consumer).set(this.keys.alive, "1", "PX", this.#leaseMs).exec();
      if (ticks++ % 3 === 0) void REAP.run(c, [this.keys.consumers, this.keys.items], [this.keys.base]).catch(() => {});
      p.catch(() => {});
    };
    renew();
    this.#leaseTimer = setInterval(renew, every);
    this.#leaseTimer.unref();
  }

  /** Items in the queue (not counting items consumers hold). */
  async qsize(): Promise<number> {
    return (await this.cmd()).llen(this.keys.items);
  }

  /** True when the queue holds no items. */
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  /** True when a bounded queue holds maxSize items. */
  async full(): Promise<boolean> {
    const c = await this.cmd();
    const [[, max], [, n]] = (await c.multi().get(this.keys.max).llen(this.keys.items).exec()) as [[unknown, string | null], [unknown, number]];
    const m = Number(max ?? 0);
    return m > 0 && n >= m;
  }

  /** The bound stored in Redis (0: unbounded). */
  async maxSize(): Promise<number> {
    return Number((await (await this.cmd()).get(this.keys.max)) ?? 0);
  }

  /**
   * Returns every item put back from consumers whose lease expired (this runs by itself every
   * `visibilityTimeout` in every consumer); resolves to how many items went back.
   */
  async reap(): Promise<number> {
    const c = await this.cmd();
    return (await REAP.run(c, [this.keys.consumers, this.keys.items], [this.keys.base])) as number;
  }

  /**
   * Shuts the queue down for every client: puts throw ShutDownError; gets return what is left, then
   * throw ShutDownError (with `immediate`, at once: the items are discarded). Blocked gets and puts
   * anywhere wake up.
   */
  async shutdown(opts: ShutdownOptions = {}): Promise<void> {
    const c = await this.cmd();
    const ids = (await SHUTDOWN.run(c, [this.keys.shutdown, this.keys.items, this.keys.unfinished, this.keys.waiters], [opts.immediate === true ? "1" : "0", this.keys.joined])) as Buffer[];
    await Promise.all(ids.map((id) => c.client("UNBLOCK", id.toString()).catch(() => 0)));
  }

  /**
   * Leaves the queue: what this consumer finished is acknowledged, what it took and did not finish
   * (a JoinableQueue's items without `taskDone`) goes back to the head; pending calls reject with
   * ClosedError; connections this queue opened close.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    const c = await this.link.cmd.catch(() => undefined);
    this.#closed = true;
    clearInterval(this.#leaseTimer);
    const err = new ClosedError(`Queue ${this.name} was closed`);
    for (const w of this.#getWaiters.splice(0)) w.reject(err);
    this.#blockedPut?.reject(err);
    // first the blocking connections (nothing more can be taken), then give back what is held
    for (const b of [this.#getConn, this.#putConn]) if (b) this.link.release(b);
    if (c !== undefined && c.status === "ready") {
      try {
        const ids = [this.#getConn, this.#putConn].filter((b) => b !== undefined);
        if (ids.length > 0) await c.hdel(this.keys.waiters, ...(await Promise.all(ids.map((b) => b.id().then(String, () => "")))));
        if (this.#leaseTimer !== undefined) await LEAVE.run(c, [this.keys.proc, this.keys.items, this.keys.alive, this.keys.consumers], [this.consumer, "1", ...this.acks]);
        if (this.joinable) await c.del(this.keys.done);
      } catch {
        // Redis is gone: the lease expires and another consumer returns the items
      }
    }
    this.acks = [];
    this.link.close();
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Yields items until the queue is shut down and drained. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return untilShutDown(() => this.get());
  }


  /** `await using q = new Queue(...)` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal how a child gets this object: the same connection and name */
  [toHandle](): HandleDescriptor {
    return describeHandle(this.constructor.name, this.#handleOpts, import.meta.url);
  }

  toString(): string {
    return `Queue(${this.name})`;
  }
}

registerRedisHandle("Queue", (state) => new Queue(state as never));

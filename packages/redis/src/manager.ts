/**
 * `Manager` on Redis: the factory shape of `@ipc/manager`'s SyncManager, so that code written as
 * `const d = await m.dict()` moves to Redis unchanged. Each object it makes is a Redis object with
 * a name of its own (`opts.name`, or a fresh one); hand the object (or its name) to other
 * processes to share it. `shutdown()` closes them all, and deletes the data of the ones it named
 * itself (as a manager's objects go with it); objects you named stay in Redis.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { type Connection, keyOf } from "./connection.js";
import { Dict } from "./dict.js";
import { Event } from "./event.js";
import { JoinableQueue } from "./joinable-queue.js";
import { List } from "./list.js";
import { Lock } from "./lock.js";
import { Queue, type QueueOptions } from "./queue.js";
import { Semaphore } from "./semaphore.js";

/** Options of {@link Manager}. */
export interface ManagerOptions {
  /** Where Redis is. */
  connection: Connection;
  /** Key prefix of every object; default `'ipc'`. */
  prefix?: string;
}

/** Options of one object a manager makes. */
export interface MakeOptions {
  /** Its name in Redis (shared by every client that names it); default a fresh one, deleted at `shutdown()`. */
  name?: string;
}

type Closable = { close(): Promise<void>; readonly name: string };

/** Makes Redis objects the way a SyncManager makes proxies. */
export class RedisManager {
  readonly #opts: ManagerOptions;
  readonly #made: { object: Closable; own: boolean }[] = [];
  readonly #id = randomBytes(6).toString("hex");
  #seq = 0;
  #shut = false;

  constructor(opts: ManagerOptions) {
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be { connection, prefix? }");
    this.#opts = opts;
  }

  #make<T extends Closable>(what: string, opts: MakeOptions | undefined, build: (name: string) => T): T {
    if (this.#shut) throw new TypeError("this manager was shut down");
    const name = opts?.name ?? `mgr-${this.#id}-${what}-${++this.#seq}`;
    const object = build(name);
    this.#made.push({ object, own: opts?.name === undefined });
    return object;
  }

  #base(name: string): { connection: Connection; name: string; prefix?: string } {
    return { connection: this.#opts.connection, name, prefix: this.#opts.prefix };
  }

  /** A Dict, filled with `init` (a Map, pairs or a plain object) when given. */
  async dict<K = unknown, V = unknown>(init?: Map<K, V> | Iterable<[K, V]> | Record<string, V>, opts?: MakeOptions): Promise<Dict<K, V>> {
    const d = this.#make("dict", opts, (name) => new Dict<K, V>(this.#base(name)));
    if (init !== undefined) await d.update(init);
    return d;
  }

  /** A List, filled with `init` when given. */
  async list<T = unknown>(init?: Iterable<T>, opts?: MakeOptions): Promise<List<T>> {
    const l = this.#make("list", opts, (name) => new List<T>(this.#base(name)));
    if (init !== undefined) await l.extend(init);
    return l;
  }

  /** A Queue. */
  async Queue<T = unknown>(opts: MakeOptions & Omit<QueueOptions, "connection" | "name" | "prefix"> = {}): Promise<Queue<T>> {
    return this.#make("queue", opts, (name) => new Queue<T>({ ...opts, ...this.#base(name) }));
  }

  /** A JoinableQueue. */
  async JoinableQueue<T = unknown>(opts: MakeOptions & Omit<QueueOptions, "connection" | "name" | "prefix"> = {}): Promise<JoinableQueue<T>> {
    return this.#make("jqueue", opts, (name) => new JoinableQueue<T>({ ...opts, ...this.#base(name) }));
  }

  /** A Lock. */
  async Lock(opts: MakeOptions & { leaseMs?: number } = {}): Promise<Lock> {
    return this.#make("lock", opts, (name) => new Lock({ ...opts, ...this.#base(name) }));
  }

  /** A Semaphore of `value` permits. */
  async Semaphore(value = 1, opts: MakeOptions & { leaseMs?: number } = {}): Promise<Semaphore> {
    return this.#make("sem", opts, (name) => new Semaphore({ ...opts, value, ...this.#base(name) }));
  }

  /** An Event. */
  async Event(opts: MakeOptions = {}): Promise<Event> {
    return this.#make("event", opts, (name) => new Event(this.#base(name)));
  }

  /** Closes every object this manager made and deletes the data of those it named itself. */
  async shutdown(): Promise<void> {
    if (this.#shut) return;
    this.#shut = true;
    const own = this.#made.filter((m) => m.own).map((m) => m.object.name);
    await Promise.all(this.#made.map((m) => m.object.close().catch(() => {})));
    if (own.length === 0) return;
    const c = this.#opts.connection instanceof Redis ? this.#opts.connection : undefined;
    const url = typeof this.#opts.connection === "string" ? this.#opts.connection : "url" in this.#opts.connection ? this.#opts.connection.url : undefined;
    const client = c ?? (url !== undefined ? new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined);
    if (client === undefined) return;
    client.on("error", () => {});
    try {
      for (const name of own) {
        // every key of the object: ipc:{name}:* (SCAN, never KEYS)
        const pattern = keyOf(this.#opts.prefix ?? "ipc", name, "*");
        for await (const keys of client.scanStream({ match: pattern, count: 200 }) as AsyncIterable<string[]>) {
          if (keys.length > 0) await client.del(...keys);
        }
      }
    } catch {
      // Redis is gone: the data stays
    } finally {
      if (c === undefined) client.disconnect();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/** A started manager: `await using m = await Manager({ connection })`. */
export async function Manager(opts: ManagerOptions): Promise<RedisManager> {
  return new RedisManager(opts);
}

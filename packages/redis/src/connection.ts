/**
 * Connections to Redis. Every @ipc/redis object takes a `connection`: a URL, `{ url, options }`
 * or an ioredis client of the caller's. The object opens its own command connection (or uses the
 * caller's client, which it then never closes) and, for blocking waits, dedicated duplicates of
 * it: a blocking command (BLMOVE, BLPOP) holds its whole connection until it returns.
 */
import { Redis, type RedisOptions } from "ioredis";
import { AuthenticationError, ClosedError } from "@ipc/core";
import { invalid } from "@ipc/core/internal";
import { RedisConnectionError } from "./errors.js";

/** Where Redis is: `'redis://host:port'`, `{ url, options }` (ioredis options) or an ioredis client. */
export type Connection = string | { url: string; options?: RedisOptions } | Redis;

/** Options every @ipc/redis object takes. */
export interface RedisObjectOptions {
  /** Where Redis is: `'redis://[:password@]host:port[/db]'`, `{ url, options }` or an ioredis client. */
  connection: Connection;
  /** The object's name: every client that names the same Redis and name shares one object. */
  name: string;
  /** Prefix of every key the object uses; default `'ipc'` (keys are `ipc:{name}:...`). */
  prefix?: string;
}

function checkUrl(url: unknown): string {
  if (typeof url !== "string") invalid("connection", "a redis:// URL, { url } or an ioredis client", url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisConnectionError(`Not a Redis URL: ${JSON.stringify(url)} (expected redis://host:port, rediss://host:port or redis+unix:///path)`);
  }
  if (!["redis:", "rediss:", "redis+unix:", "unix:"].includes(parsed.protocol)) {
    throw new RedisConnectionError(`Not a Redis URL: ${JSON.stringify(url)} (the scheme must be redis:, rediss: or unix:)`);
  }
  return url;
}

/** Where a URL points, without its password. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/** The error a failed first connect means, from the last error the client reported. */
function connectError(where: string, last: Error | undefined): Error {
  const msg = last?.message ?? "connection closed";
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(msg)) {
    return new AuthenticationError(`Redis at ${where} refused the credentials: ${msg}`, { cause: last });
  }
  return new RedisConnectionError(`Could not connect to Redis at ${where}: ${msg}`, { cause: last });
}

/** Opens an ioredis client and resolves once it is ready; a failed first connect rejects with a named error. */
export async function openClient(url: string, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, ...options });
  let last: Error | undefined;
  client.on("error", (e: Error) => {
    last = e;
  });
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw connectError(redact(url), last ?? (e as Error));
  }
  return client;
}

/** Waits until a client of the caller's is ready. */
async function readyClient(client: Redis): Promise<Redis> {
  if (client.status === "ready") return client;
  if (client.status === "wait") await client.connect();
  else if (client.status === "end" || client.status === "close") throw new ClosedError("The Redis client given as `connection` is closed");
  else await untilReady(client, () => new RedisConnectionError("The Redis client given as `connection` ended before it was ready"));
  return client;
}

/** Resolves at the client's next `ready`; rejects with `ended()` if it ends first (or has ended). */
function untilReady(client: Redis, ended: () => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onReady = (): void => {
      client.off("end", onEnd);
      resolve();
    };
    const onEnd = (): void => {
      client.off("ready", onReady);
      reject(ended());
    };
    client.once("ready", onReady);
    client.once("end", onEnd);
    if (client.status === "end") onEnd();
  });
}

/** A blocking connection and its client id (for `CLIENT UNBLOCK`), refreshed after each reconnect. */
export interface BlockingClient {
  readonly client: Redis;
  /** The id Redis knows this connection by. */
  id(): Promise<number>;
}

/**
 * The connections of one @ipc/redis object: a command connection (shared by all its non-blocking
 * calls, which ioredis pipelines) and blocking duplicates made on demand.
 */
export class Link {
  readonly #own: boolean;
  readonly #url: string | undefined;
  readonly #options: RedisOptions | undefined;
  readonly #opened: Promise<Redis>;
  readonly #extra = new Set<Redis>();
  #closed = false;

  constructor(connection: Connection) {
    if (connection instanceof Redis) {
      this.#own = false;
      this.#opened = readyClient(connection);
    } else {
      const url = checkUrl(typeof connection === "string" ? connection : connection?.url);
      this.#own = true;
      this.#url = url;
      this.#options = typeof connection === "string" ? undefined : connection.options;
      this.#opened = openClient(url, this.#options);
    }
    // a failed connect is reported by the first call that awaits it
    this.#opened.catch(() => {});
  }

  /** The command connection, once ready. */
  get cmd(): Promise<Redis> {
    if (this.#closed) return Promise.reject(new ClosedError("This object was closed"));
    return this.#opened;
  }

  /**
   * A new connection of its own for blocking commands (closed with the link). Redis answered this
   * link before, so a refused connect is Redis restarting: the new connection waits for it as
   * ioredis's own reconnects do (until the link closes), and fails at once only on credentials.
   */
  async blocking(): Promise<BlockingClient> {
    const base = await this.cmd;
    const client = this.#url !== undefined
      ? new Redis(this.#url, { ...this.#options, maxRetriesPerRequest: null, lazyConnect: true })
      : base.duplicate({ maxRetriesPerRequest: null, lazyConnect: true });
    let last: Error | undefined;
    client.on("error", (e: Error) => {
      last = e;
    });
    this.#extra.add(client);
    if (this.#closed) client.disconnect();
    try {
      await readyClient(client);
    } catch (e) {
      const error = connectError(redact(this.#url ?? "the given client's server"), last ?? (e as Error));
      if (error instanceof AuthenticationError || this.#closed) {
        this.#extra.delete(client);
        client.disconnect();
        throw this.#closed ? new ClosedError("This object was closed") : error;
      }
      // ioredis goes on reconnecting by itself: wait for it (or for the link's close to end it)
      if (client.status !== "ready") await untilReady(client, () => (this.#closed ? new ClosedError("This object was closed") : error));
    }
    // the id is asked now, while the connection is idle: asked later, the question would queue
    // behind the very blocking command it is needed to interrupt
    const ask = (): Promise<number> => {
      const p = client.client("ID");
      p.catch(() => {});
      return p;
    };
    let id = ask();
    await id;
    // after a reconnect the connection has a new id
    client.on("ready", () => {
      id = ask();
    });
    return { client, id: () => id };
  }

  /** Ends the blocking command `b` is waiting in, if any (`CLIENT UNBLOCK`: it returns as on a timeout). */
  async unblock(b: BlockingClient | undefined): Promise<void> {
    if (b === undefined) return;
    try {
      await (await this.cmd).client("UNBLOCK", await b.id());
    } catch {
      // the connection is gone: nothing is blocked
    }
  }

  /** Closes a blocking connection made by {@link blocking}. */
  release(b: BlockingClient): void {
    this.#extra.delete(b.client);
    b.client.disconnect();
  }

  /** Closes every connection this link opened (a client given by the caller stays open). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#extra) c.disconnect();
    this.#extra.clear();
    if (this.#own) this.#opened.then((c) => c.quit().catch(() => c.disconnect()), () => {});
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/** Validates an object name. */
export function checkName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || /[{}]/.test(name)) invalid("name", "a non-empty string without { or }", name);
  return name;
}

/** The key of one part of the object `name`: `prefix:{name}:part` (one hash slot per object). */
export function keyOf(prefix: string, name: string, part: string): string {
  return `${prefix}:{${name}}:${part}`;
}

/**
 * The connection as plain data, for a handle: a URL stays a URL (with its password: handles go
 * only to this program's own children); a client becomes its host, port, db and credentials.
 */
export function connectionData(connection: Connection): { url: string; options?: RedisOptions } {
  if (typeof connection === "string") return { url: connection };
  if (!(connection instanceof Redis)) return { url: connection.url, options: plainOptions(connection.options) };
  const o = connection.options;
  const url = o.path ? `unix://${o.path}` : `redis://${o.host ?? "127.0.0.1"}:${o.port ?? 6379}/${o.db ?? 0}`;
  return { url, options: plainOptions({ username: o.username, password: o.password, tls: o.tls }) };
}

/** Options that are data (functions, such as a retryStrategy, cannot travel). */
function plainOptions(o: RedisOptions | undefined): RedisOptions | undefined {
  if (o === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && typeof v !== "function") out[k] = v;
  return out;
}

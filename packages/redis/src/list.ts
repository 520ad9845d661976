/**
 * A list on Redis with the async API of @ipc/manager's list proxy: one Redis list
 * (`ipc:{l}:l`) of codec bytes. Values compare by content (`index`, `count`, `remove` look for
 * equal bytes). Compound operations are scripts, atomic across clients; `sort` reads, sorts here
 * and writes back only if no other client changed the list meanwhile (WATCH), else tries again.
 */
import { decode } from "./codec.js";
import { RedisData } from "./redis-object.js";
import { Script } from "./script.js";
import { registerRedisHandle } from "./handle.js";

// codec bytes are never empty: '' marks an element being removed
const POP_AT = new Script(`
local v = redis.call('LINDEX', KEYS[1], ARGV[1])
if not v then return false end
redis.call('LSET', KEYS[1], ARGV[1], '')
redis.call('LREM', KEYS[1], 1, '')
return v
`);
const INSERT = new Script(`
local n = redis.call('LLEN', KEYS[1])
local i = tonumber(ARGV[1])
if i < 0 then i = math.max(0, n + i) end
if i >= n then return redis.call('RPUSH', KEYS[1], ARGV[2]) end
if i == 0 then return redis.call('LPUSH', KEYS[1], ARGV[2]) end
local rest = redis.call('LRANGE', KEYS[1], i, -1)
redis.call('LTRIM', KEYS[1], 0, i - 1)
redis.call('RPUSH', KEYS[1], ARGV[2], unpack(rest))
return n + 1
`);
const REVERSE = new Script(`
local all = redis.call('LRANGE', KEYS[1], 0, -1)
if #all < 2 then return 1 end
redis.call('DEL', KEYS[1])
for i = #all, 1, -1 do redis.call('RPUSH', KEYS[1], all[i]) end
return 1
`);
const COUNT = new Script(`
return #redis.call('LPOS', KEYS[1], ARGV[1], 'COUNT', 0)
`);

// JavaScript's slice(start, end) on LRANGE's inclusive indices
const SLICE = new Script(`
local n = redis.call('LLEN', KEYS[1])
local s = tonumber(ARGV[1])
local e = ARGV[2] == '' and n or tonumber(ARGV[2])
if s < 0 then s = math.max(0, n + s) else s = math.min(s, n) end
if e < 0 then e = math.max(0, n + e) else e = math.min(e, n) end
if e <= s then return {} end
return redis.call('LRANGE', KEYS[1], s, e - 1)
`);

function indexError(): RangeError {
  return new RangeError("IndexError: list index out of range");
}

function checkIndex(i: unknown): number {
  if (typeof i !== "number" || !Number.isInteger(i)) throw new TypeError("list indices must be integers");
  return i;
}

/** A list every client that names it shares, as `Manager().list()` across machines. */
export class List<T = unknown> extends RedisData {
  get #k(): string {
    return this.key("l");
  }

  /** The element at `i` (negative counts from the end). @throws RangeError (`IndexError`). */
  async get(i: number): Promise<T> {
    const v = await (await this.cmd()).lindexBuffer(this.#k, checkIndex(i));
    if (v === null) throw indexError();
    return decode<T>(v);
  }

  /** Replaces the element at `i`. @throws RangeError (`IndexError`). */
  async set(i: number, v: T): Promise<void> {
    try {
      await (await this.cmd()).lset(this.#k, checkIndex(i), this.enc(v, "value"));
    } catch (e) {
      if (e instanceof Error && /index out of range|no such key/i.test(e.message)) throw indexError();
      throw e;
    }
  }

  /** Adds `v` at the end. */
  async append(v: T): Promise<void> {
    await (await this.cmd()).rpush(this.#k, this.enc(v, "value"));
  }

  /** Adds every element of `vs` at the end. */
  async extend(vs: Iterable<T>): Promise<void> {
    const bytes = [...vs].map((v) => this.enc(v, "value"));
    if (bytes.length > 0) await (await this.cmd()).rpush(this.#k, ...bytes);
  }

  /** Inserts `v` before index `i` (clamped, as Python's `insert`). */
  async insert(i: number, v: T): Promise<void> {
    await INSERT.run(await this.cmd(), [this.#k], [checkIndex(i), this.enc(v, "value")]);
  }

  /** Removes and returns the element at `i` (default the last). @throws RangeError (`IndexError`). */
  async pop(i = -1): Promise<T> {
    const c = await this.cmd();
    checkIndex(i);
    const v = i === -1 ? await c.rpopBuffer(this.#k) : i === 0 ? await c.lpopBuffer(this.#k) : ((await POP_AT.run(c, [this.#k], [i])) as Buffer | null);
    if (v === null) throw indexError();
    return decode<T>(v);
  }

  /** Removes the first element equal to `v`. @throws RangeError (`ValueError`) when there is none. */
  async remove(v: T): Promise<void> {
    if ((await (await this.cmd()).lrem(this.#k, 1, this.enc(v, "value"))) === 0) throw new RangeError(`ValueError: ${String(v)} is not in list`);
  }

  /** Index of the first element equal to `v`. @throws RangeError (`ValueError`) when there is none. */
  async index(v: T): Promise<number> {
    const i = await (await this.cmd()).lpos(this.#k, this.enc(v, "value"));
    if (i === null) throw new RangeError(`ValueError: ${String(v)} is not in list`);
    return i;
  }

  /** Elements equal to `v`. */
  async count(v: T): Promise<number> {
    return (await COUNT.run(await this.cmd(), [this.#k], [this.enc(v, "value")])) as number;
  }

  /** Reverses the list in place. */
  async reverse(): Promise<void> {
    await REVERSE.run(await this.cmd(), [this.#k]);
  }

  /** Sorts in place (numbers and strings by `<`, as the manager list), `reverse` for descending. */
  async sort(opts: { reverse?: boolean } = {}): Promise<void> {
    const c = await this.link.cmd;
    // optimistic: a dedicated connection WATCHes the key; a change by anyone else makes EXEC fail and we retry
    const w = c.duplicate();
    w.on("error", () => {});
    try {
      for (let attempt = 0; attempt < 100; attempt++) {
        await w.watch(this.#k);
        const raw = await w.lrangeBuffer(this.#k, 0, -1);
        const pairs = raw.map((b) => [decode<unknown>(b), b] as const);
        pairs.sort(([a], [b]) => (a === b ? 0 : (a as number) < (b as number) ? -1 : 1));
        if (opts.reverse) pairs.reverse();
        const tx = w.multi().del(this.#k);
        if (pairs.length > 0) tx.rpush(this.#k, ...pairs.map(([, b]) => b));
        if ((await tx.exec()) !== null) return;
      }
      throw new Error(`${this}: sort() lost 100 races with other writers`);
    } finally {
      w.disconnect();
    }
  }

  /** Elements from `start` to `end` (exclusive; negatives count from the end), as `Array.prototype.slice`. */
  async slice(start = 0, end?: number): Promise<T[]> {
    const c = await this.cmd();
    const r = (await SLICE.run(c, [this.#k], [checkIndex(start), end === undefined ? "" : checkIndex(end)])) as Buffer[];
    return r.map((b) => decode<T>(b));
  }

  /** Number of elements. */
  async length(): Promise<number> {
    return (await this.cmd()).llen(this.#k);
  }

  /** A plain copy (an array), not a live object. */
  async toArray(): Promise<T[]> {
    return (await (await this.cmd()).lrangeBuffer(this.#k, 0, -1)).map((b) => decode<T>(b));
  }
}

registerRedisHandle("List", (state) => new List(state as never));

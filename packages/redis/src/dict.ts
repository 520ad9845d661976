/**
 * A dict on Redis with the async API of @ipc/manager's dict proxy. Keys keep their type (`65` and
 * `'65'` are two keys; `0.25` is a key): a key is stored as its codec bytes, so two keys are the
 * same when they encode the same (objects compare by content, not identity). Order is insertion
 * order, as Python's dict and JavaScript's Map.
 *
 * | key             | type | holds                                            |
 * |-----------------|------|--------------------------------------------------|
 * | `ipc:{d}:h`     | hash | key bytes → value bytes                          |
 * | `ipc:{d}:o`     | zset | key bytes scored by insertion number (the order) |
 * | `ipc:{d}:seq`   | str  | the last insertion number                        |
 *
 * Every compound operation is one script: atomic across clients.
 */
import { decode } from "./codec.js";
import { RedisData } from "./redis-object.js";
import { Script } from "./script.js";
import { registerRedisHandle } from "./handle.js";

const SET = new Script(`
for i = 1, #ARGV, 2 do
  if redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[i])
  end
end
return 1
`);
const DEL = new Script(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {v}
end
return false
`);
const POPITEM = new Script(`
local last = redis.call('ZRANGE', KEYS[2], -1, -1)
if #last == 0 then return false end
local v = redis.call('HGET', KEYS[1], last[1])
redis.call('HDEL', KEYS[1], last[1])
redis.call('ZREM', KEYS[2], last[1])
return {last[1], v}
`);
const SETDEFAULT = new Script(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then return v end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
return ARGV[2]
`);
const ITEMS = new Script(`
local ks = redis.call('ZRANGE', KEYS[2], 0, -1)
if #ks == 0 then return {} end
local vs = redis.call('HMGET', KEYS[1], unpack(ks))
local out = {}
for i = 1, #ks do
  out[2 * i - 1] = ks[i]
  out[2 * i] = vs[i]
end
return out
`);

/** A Python-style `KeyError` (a RangeError whose message starts `KeyError:`), as the manager dict throws. */
function keyError(key: unknown): RangeError {
  return new RangeError(`KeyError: ${String(key)}`);
}

/** A dict every client that names it shares, as `Manager().dict()` across machines. */
export class Dict<K = unknown, V = unknown> extends RedisData {
  #keys(): string[] {
    return [this.key("h"), this.key("o"), this.key("seq")];
  }

  /** The value at `key`, or `fallback` (default undefined) when it is missing. */
  async get(key: K, fallback?: V): Promise<V | undefined> {
    const v = await (await this.cmd()).hgetBuffer(this.key("h"), this.enc(key, "key"));
    return v === null ? fallback : decode<V>(v);
  }

  /** Sets `key` to `value`. */
  async set(key: K, value: V): Promise<void> {
    await SET.run(await this.cmd(), this.#keys(), [this.enc(key, "key"), this.enc(value, "value")]);
  }

  /** True when `key` is present. */
  async has(key: K): Promise<boolean> {
    return (await (await this.cmd()).hexists(this.key("h"), this.enc(key, "key"))) === 1;
  }

  /** Removes `key`. @throws RangeError (`KeyError: ...`) when it is missing, as Python's `del d[k]`. */
  async delete(key: K): Promise<boolean> {
    const r = await DEL.run(await this.cmd(), this.#keys(), [this.enc(key, "key")]);
    if (r === null) throw keyError(key);
    return true;
  }

  /** The keys, in insertion order. */
  async keys(): Promise<K[]> {
    const ks = await (await this.cmd()).zrangeBuffer(this.key("o"), 0, -1);
    return ks.map((k) => decode<K>(k));
  }

  /** The values, in insertion order. */
  async values(): Promise<V[]> {
    return (await this.items()).map(([, v]) => v);
  }

  /** `[key, value]` pairs, in insertion order. */
  async items(): Promise<[K, V][]> {
    const flat = (await ITEMS.run(await this.cmd(), this.#keys())) as Buffer[];
    const out: [K, V][] = [];
    for (let i = 0; i < flat.length; i += 2) out.push([decode<K>(flat[i]), decode<V>(flat[i + 1])]);
    return out;
  }

  /** Number of keys. */
  async size(): Promise<number> {
    return (await this.cmd()).hlen(this.key("h"));
  }

  /** Sets every pair of `other` (a Map, pairs, or a plain object's own entries). */
  async update(other: Map<K, V> | Iterable<[K, V]> | Record<string, V>): Promise<void> {
    const entries = other instanceof Map ? [...other.entries()] : Symbol.iterator in Object(other) ? [...(other as Iterable<[K, V]>)] : (Object.entries(other) as [K, V][]);
    if (entries.length === 0) return;
    const args: Buffer[] = [];
    for (const [k, v] of entries) args.push(this.enc(k, "key"), this.enc(v, "value"));
    await SET.run(await this.cmd(), this.#keys(), args);
  }

  /** Removes `key` and returns its value; when missing, returns `fallback` if given, else throws RangeError (`KeyError`). */
  async pop(key: K, ...fallback: [V?]): Promise<V | undefined> {
    const r = (await DEL.run(await this.cmd(), this.#keys(), [this.enc(key, "key")])) as Buffer[] | null;
    if (r !== null) return decode<V>(r[0]);
    if (fallback.length > 0) return fallback[0];
    throw keyError(key);
  }

  /** Removes and returns the last inserted pair. @throws RangeError (`KeyError`) when empty. */
  async popitem(): Promise<[K, V]> {
    const r = (await POPITEM.run(await this.cmd(), this.#keys())) as Buffer[] | null;
    if (r === null) throw new RangeError("KeyError: popitem(): dictionary is empty");
    return [decode<K>(r[0]), decode<V>(r[1])];
  }

  /** The value at `key`; when missing, sets it to `value` (default null) first. */
  async setdefault(key: K, value: V | null = null): Promise<V | null> {
    const r = (await SETDEFAULT.run(await this.cmd(), this.#keys(), [this.enc(key, "key"), this.enc(value, "value")])) as Buffer;
    return decode<V | null>(r);
  }

  /** Removes every key. */
  async clear(): Promise<void> {
    await (await this.cmd()).del(...this.#keys());
  }

  /** A plain copy (a Map), not a live object. */
  async copy(): Promise<Map<K, V>> {
    return new Map(await this.items());
  }
}

registerRedisHandle("Dict", (state) => new Dict(state as never));

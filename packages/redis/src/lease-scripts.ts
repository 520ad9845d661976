/**
 * Scripts of Semaphore and Lock. Keys of an object named `s`:
 *
 * | key               | type  | holds                                                          |
 * |-------------------|-------|----------------------------------------------------------------|
 * | `ipc:{s}:holders` | zset  | one member per permit held: its token, scored by lease expiry (ms, Redis clock) |
 * | `ipc:{s}:wake`    | list  | wake-up tokens pushed by release (at most 64)                  |
 * | `ipc:{s}:released:<o>` | string | the token object `o` released last (a day's expiry; deleted on close) |
 *
 * Time is Redis's own (`TIME`), so clients' clocks do not matter. A permit whose lease was not
 * renewed in time is pruned by the next acquire: a holder that died gives its permit back.
 *
 * Both scripts a client runs may run twice: ioredis sends again a command whose reply a dropped
 * connection lost. `ACQUIRE` of a token already held answers "acquired" again; `RELEASE` of the
 * token its object released last answers "released" again (the second run comes before any later
 * command of the same connection, so no later release has replaced it).
 */
import { Script } from "./script.js";

/** KEYS holders; ARGV token, value, leaseMs → -1 acquired, else ms until the first lease expires. */
export const ACQUIRE = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(first[2]) - now)
`);

/** KEYS holders; ARGV leaseMs, tokens... → how many of the tokens were still held (and are renewed). */
export const RENEW = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
    held = held + 1
  end
end
return held
`);

/** KEYS holders, wake, released; ARGV token → 1 released (a waiter is woken), 0 the token was not held (its lease expired). */
export const RELEASE = new Script(`
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], '1')
  redis.call('LTRIM', KEYS[2], 0, 63)
  redis.call('SET', KEYS[3], ARGV[1], 'PX', 86400000)
  return 1
end
if redis.call('GET', KEYS[3]) == ARGV[1] then return 1 end
return 0
`);

/** KEYS holders → permits held now (expired ones pruned). */
export const HELD = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`);

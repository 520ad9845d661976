/**
 * The queue's server-side scripts. Keys of a queue named `q` (prefix `ipc`), all in one hash slot:
 *
 * | key                     | type   | holds                                                      |
 * |-------------------------|--------|------------------------------------------------------------|
 * | `ipc:{q}:items`         | list   | items; producers push left, consumers take right (FIFO)    |
 * | `ipc:{q}:proc:<c>`      | list   | items consumer `c` took and has not finished (newest left) |
 * | `ipc:{q}:alive:<c>`     | string | consumer `c`'s lease; expires `visibilityTimeout` after its last renewal |
 * | `ipc:{q}:consumers`     | set    | consumers that may hold items                              |
 * | `ipc:{q}:max`           | string | maxSize, when bounded                                      |
 * | `ipc:{q}:room`          | list   | wake-up tokens for producers waiting for room (at most 64) |
 * | `ipc:{q}:unfinished`    | string | JoinableQueue: items put and not yet `taskDone`            |
 * | `ipc:{q}:shutdown`      | string | `drain` or `immediate` once shut down                      |
 * | `ipc:{q}:waiters`       | hash   | ids of connections blocked on this queue (woken by shutdown) |
 * | `ipc:{q}:joined`        | channel| published when `unfinished` reaches 0                      |
 * | `ipc:{q}:done:<c>`      | string | JoinableQueue: the id of client `c`'s last `taskDone` (a day's expiry; deleted on close) |
 *
 * Each script is atomic. A consumer's items move back to the head of `items`, oldest first, when
 * its lease has expired (`reap`): delivery is at least once.
 */
import { Script } from "./script.js";

/** KEYS items, shutdown, max, unfinished; ARGV value, joinable → 1 put, 0 full, -1 shut down. */
export const PUT = new Script(`
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local max = tonumber(redis.call('GET', KEYS[3]) or '0')
if max > 0 and redis.call('LLEN', KEYS[1]) >= max then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[1])
if ARGV[2] == '1' then redis.call('INCR', KEYS[4]) end
return 1
`);

/**
 * KEYS items, proc, shutdown, max, room, waiters; ARGV count, waiterId ('' for none), acks... →
 * up to `count` items taken (oldest first), an empty array when the queue is empty (the waiter is
 * then registered), or the shutdown state (a string) when shut down and empty. The acks are items
 * this consumer is done with: they leave its list first.
 */
export const TAKE = new Script(`
for i = 3, #ARGV do redis.call('LREM', KEYS[2], -1, ARGV[i]) end
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not v then break end
  out[i] = v
end
if #out > 0 then
  if redis.call('EXISTS', KEYS[4]) == 1 then
    for i = 1, math.min(#out, 64) do redis.call('LPUSH', KEYS[5], '1') end
    redis.call('LTRIM', KEYS[5], 0, 63)
  end
  return out
end
local s = redis.call('GET', KEYS[3])
if s then return s end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[6], ARGV[2], '1') end
return out
`);

/** KEYS max, room: after a blocking take, wakes a producer waiting for room. */
export const ROOM = new Script(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('LPUSH', KEYS[2], '1')
  redis.call('LTRIM', KEYS[2], 0, 63)
end
return 1
`);

/** KEYS proc, items; ARGV value: puts back at the head an item taken but not handed to anyone. */
export const REQUEUE = new Script(`
if redis.call('LREM', KEYS[1], 1, ARGV[1]) > 0 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
return 1
`);

/**
 * KEYS proc, unfinished, done; ARGV channel, value ('' when the taken items are all acked), call id
 * → remaining unfinished, or -1 if none. A second run of the same call (ioredis sends a command
 * again when a dropped connection lost its reply) comes before any later call of the client, so
 * `done` still holds its id: it answers again without counting the task twice.
 */
export const TASK_DONE = new Script(`
if redis.call('GET', KEYS[3]) == ARGV[3] then return tonumber(redis.call('GET', KEYS[2]) or '0') end
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
if n <= 0 then return -1 end
if ARGV[2] ~= '' then redis.call('LREM', KEYS[1], -1, ARGV[2]) end
n = redis.call('DECR', KEYS[2])
redis.call('SET', KEYS[3], ARGV[3], 'PX', 86400000)
if n == 0 then redis.call('PUBLISH', ARGV[1], '0') end
return n
`);

/** KEYS consumers, items; ARGV keyPrefix (`ipc:{q}:`) → items moved back from consumers whose lease expired. */
export const REAP = new Script(`
local moved = 0
for _, c in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. c) == 0 then
    local proc = ARGV[1] .. 'proc:' .. c
    while redis.call('LMOVE', proc, KEYS[2], 'LEFT', 'RIGHT') do moved = moved + 1 end
    redis.call('SREM', KEYS[1], c)
  end
end
return moved
`);

/**
 * KEYS proc, items, alive, consumers; ARGV consumer, requeue, acks...: a consumer leaves. The
 * acknowledged items are dropped; with requeue '1' the rest go back to the head of the queue.
 */
export const LEAVE = new Script(`
for i = 3, #ARGV do redis.call('LREM', KEYS[1], -1, ARGV[i]) end
if ARGV[2] == '1' then
  while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do end
end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
return 1
`);

/** KEYS shutdown, items, unfinished, waiters; ARGV immediate, channel → ids of blocked connections to wake. */
export const SHUTDOWN = new Script(`
local state = redis.call('GET', KEYS[1])
if state ~= 'immediate' then
  redis.call('SET', KEYS[1], ARGV[1] == '1' and 'immediate' or 'drain')
end
if ARGV[1] == '1' then
  local n = redis.call('LLEN', KEYS[2])
  redis.call('DEL', KEYS[2])
  if n > 0 and redis.call('EXISTS', KEYS[3]) == 1 then
    local u = redis.call('DECRBY', KEYS[3], n)
    if u <= 0 then
      redis.call('SET', KEYS[3], '0')
      redis.call('PUBLISH', ARGV[2], '0')
    end
  end
end
return redis.call('HKEYS', KEYS[4])
`);

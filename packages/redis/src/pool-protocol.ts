/**
 * The distributed pool's wire format and scripts. Keys of a pool named `p`:
 *
 * | key                   | type   | holds                                                        |
 * |-----------------------|--------|--------------------------------------------------------------|
 * | `ipc:{p}:jobs`        | list   | jobs; clients push left, workers take right (FIFO)           |
 * | `ipc:{p}:run:<w>`     | list   | the jobs worker `w` runs                                     |
 * | `ipc:{p}:alive:<w>`   | string | worker `w`'s lease, renewed every `leaseMs / 3`              |
 * | `ipc:{p}:workers`     | set    | workers that may hold jobs                                   |
 * | `ipc:{p}:tries`       | hash   | `<client> <job>` → times the job was lost with its worker    |
 * | `ipc:{p}:res:<c>`     | list   | results for client `c` (expires a day after its last result) |
 * | `ipc:{p}:seen:<c>`    | list   | results client `c` took and is handling (read again after a reconnect) |
 *
 * A job is a text header the scripts can read, then codec bytes:
 * `J <client> <job> <maxRetries>\n<codec: { fn, items, star }>`. A result is `R` + codec bytes
 * (`{ job, ok, values | error }`), or `L<job>` when the job was lost with its worker more often
 * than its retries allow. Workers decode jobs as bytes from a network peer: data only.
 */
import { Script } from "./script.js";

/** The header of a job. */
export function jobHeader(client: string, job: number, maxRetries: number): Buffer {
  return Buffer.from(`J ${client} ${job} ${maxRetries}\n`, "latin1");
}

/** Splits a job into its header fields and its payload. */
export function parseJob(bytes: Buffer): { client: string; job: number; payload: Buffer } | undefined {
  const nl = bytes.indexOf(10);
  if (nl < 0 || bytes[0] !== 0x4a) return undefined;
  const [, client, job] = bytes.subarray(0, nl).toString("latin1").split(" ");
  const id = Number(job);
  if (!client || !Number.isSafeInteger(id)) return undefined;
  return { client, job: id, payload: bytes.subarray(nl + 1) };
}

/** Seconds a result list lives after its last result (a client that went away leaves nothing forever). */
export const RESULT_TTL_S = 86_400;

/**
 * KEYS from, to; ARGV count → up to `count` elements moved from the right of `from` to the left of
 * `to` (oldest first), and returned: a worker's prefetch of jobs, a client's batch of results.
 */
export const MOVE_SOME = new Script(`
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not v then break end
  out[i] = v
end
return out
`);

/** KEYS run, res, tries; ARGV job bytes, result bytes, tries field, ttl: a worker finished a job. */
export const FINISH = new Script(`
redis.call('LREM', KEYS[1], -1, ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HDEL', KEYS[3], ARGV[3])
return 1
`);

/**
 * KEYS workers, alive, run, jobs; ARGV worker id: a worker leaves. Jobs still in its run list
 * (taken, no result stored) go back to the head of the queue, oldest first.
 */
export const LEAVE_WORKER = new Script(`
while redis.call('LMOVE', KEYS[3], KEYS[4], 'LEFT', 'RIGHT') do end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SREM', KEYS[1], ARGV[1])
return 1
`);

/**
 * KEYS workers, jobs, tries; ARGV keyPrefix (`ipc:{p}:`), ttl → jobs handled. The jobs of
 * workers whose lease expired go back to the head of the queue, or, lost more often than their
 * retries allow, are reported lost to their client.
 */
export const REAP_WORKERS = new Script(`
local n = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. w) == 0 then
    local run = ARGV[1] .. 'run:' .. w
    while true do
      local job = redis.call('RPOP', run)
      if not job then break end
      local client, id, retries = string.match(job, '^J (%S+) (%d+) (%d+)\\n')
      if client then
        local field = client .. ' ' .. id
        local tries = redis.call('HINCRBY', KEYS[3], field, 1)
        if tries > tonumber(retries) then
          redis.call('HDEL', KEYS[3], field)
          local res = ARGV[1] .. 'res:' .. client
          redis.call('LPUSH', res, 'L' .. id)
          redis.call('EXPIRE', res, ARGV[2])
        else
          redis.call('RPUSH', KEYS[2], job)
        end
        n = n + 1
      end
    end
    redis.call('SREM', KEYS[1], w)
  end
end
return n
`);

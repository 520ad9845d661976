// A CPU-heavy job: counting the primes below 5,000,000 in ranges, first in this thread alone, then
// with a Pool of cpuCount() workers, and the speed-up.
import { Pool } from "@ipc/pool";
import { cpuCount, isMainProcess } from "@ipc/process";

export function countPrimes([from, to]) {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

if (isMainProcess) {
  const limit = Number(process.argv[2] ?? 5_000_000);
  const step = limit / 40;
  const ranges = Array.from({ length: 40 }, (_, i) => [i * step, (i + 1) * step]);

  let t0 = performance.now();
  const alone = ranges.map(countPrimes).reduce((a, b) => a + b, 0);
  const aloneMs = performance.now() - t0;

  const pool = new Pool({ module: import.meta.url });
  await pool.map(countPrimes, ranges.slice(0, pool.processes)); // start and warm the workers
  t0 = performance.now();
  const counts = await pool.map(countPrimes, ranges, { chunkSize: 1 });
  const poolMs = performance.now() - t0;
  pool.close();
  await pool.join();
  const total = counts.reduce((a, b) => a + b, 0);

  console.log(`primes below ${limit}: ${total} (one thread: ${alone})`);
  console.log(`one thread: ${aloneMs.toFixed(0)} ms; pool of ${pool.processes} on ${cpuCount()} CPUs: ${poolMs.toFixed(0)} ms; speed-up ${(aloneMs / poolMs).toFixed(2)}x`);
}

// A producer: puts N jobs on the "jobs" queue on Redis, waits until workers anywhere have done
// them all, prints the total word count, and shuts the queue down (the workers then exit).
//   node producer.mjs redis://host:6379 100
import { Dict, JoinableQueue } from "@ipc/redis";

const url = process.argv[2] ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const n = Number(process.argv[3] ?? 100);
const jobs = new JoinableQueue({ connection: url, name: "jobs" });
const counts = new Dict({ connection: url, name: "counts" });
await counts.clear();

const words = ["alpha", "beta", "gamma", "delta"];
const t0 = performance.now();
for (let id = 0; id < n; id++) {
  // job `id` has id % 7 + 1 words
  await jobs.put({ id, text: Array.from({ length: (id % 7) + 1 }, (_, k) => words[k % 4]).join(" ") });
}
await jobs.join();
const total = (await counts.values()).reduce((a, b) => a + b, 0);
console.log(`${n} jobs done, ${total} words, ${(await counts.size())} counts stored`);
console.error(`(${((n / (performance.now() - t0)) * 1000).toFixed(0)} jobs/s)`);
await jobs.shutdown();
await Promise.all([jobs.close(), counts.close()]);

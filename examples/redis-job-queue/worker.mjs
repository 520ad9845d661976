// A worker: takes jobs from the "jobs" queue on Redis until the queue is shut down, counts the
// words of each job's text, stores the count in the "counts" dict, and marks the job done.
// Start as many as you like, on any machine that reaches Redis:
//   node worker.mjs redis://host:6379 w1
import { Dict, JoinableQueue } from "@ipc/redis";

const url = process.argv[2] ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const me = process.argv[3] ?? `worker-${process.pid}`;
const jobs = new JoinableQueue({ connection: url, name: "jobs" });
const counts = new Dict({ connection: url, name: "counts" });

let done = 0;
for await (const job of jobs) {
  await counts.set(job.id, job.text.split(/\s+/).filter(Boolean).length);
  await jobs.taskDone();
  done++;
}
console.log(`${me} did ${done > 0 ? "some" : "no"} jobs`);
await Promise.all([jobs.close(), counts.close()]);

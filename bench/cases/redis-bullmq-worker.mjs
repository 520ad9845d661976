// A BullMQ worker process of the redis bench: squares job.data, and tells its parent every 1,000
// the number of jobs it has completed (at most once per event-loop turn).
import { Worker } from "bullmq";

const [url, queue, concurrency] = process.argv.slice(2);
const { hostname: host, port } = new URL(url);
let done = 0;
let scheduled = false;
const worker = new Worker(queue, async (job) => job.data * job.data, {
  connection: { host, port: Number(port), maxRetriesPerRequest: null },
  concurrency: Number(concurrency),
  removeOnComplete: { count: 0 },
});
// the count goes to the parent at most once per event-loop turn
worker.on("completed", () => {
  done++;
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    process.send({ done });
  });
});
await worker.waitUntilReady();
process.send({ ready: true });
process.on("message", async (m) => {
  if (m === "report") process.send({ done });
  if (m === "stop") {
    await worker.close();
    process.exit(0);
  }
});

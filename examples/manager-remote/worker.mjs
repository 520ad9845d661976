// A worker on any machine that reaches the server: takes jobs until the queue is shut down.
// Run: node worker.mjs <host:port> <name>
import { addressOf, authkey, QueueManager } from "./queue-manager.mjs";

const [where, name = `worker-${process.pid}`] = process.argv.slice(2);
const m = new QueueManager({ address: addressOf(where), authkey });
await m.connect();
const jobs = await m.create("jobs");
const results = await m.create("results");
let done = 0;
for await (const n of jobs) {
  await results.put({ n, square: n * n, by: name });
  done++;
}
console.log(`${name} did ${done > 0 ? "some" : "no"} jobs`);

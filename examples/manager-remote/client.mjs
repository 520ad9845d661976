// A client: puts jobs, collects the results, then shuts the job queue down (the workers end).
// Run: node client.mjs <host:port> [jobs]
import { addressOf, authkey, QueueManager } from "./queue-manager.mjs";

const [where, count = "10"] = process.argv.slice(2);
const m = new QueueManager({ address: addressOf(where), authkey });
await m.connect();
const jobs = await m.create("jobs");
const results = await m.create("results");
const n = Number(count);
for (let i = 1; i <= n; i++) await jobs.put(i);
const squares = [];
for (let i = 0; i < n; i++) squares.push((await results.get({ timeout: 30_000 })).square);
console.log(squares.sort((a, b) => a - b).join(" "));
await jobs.shutdown();

// Python's remote manager: a job queue and a result queue served on a TCP port. Workers and
// clients started elsewhere connect to it. Run: node server.mjs [port]   (0: any free port)
import { ManagedQueue } from "@ipc/manager";
import { addressOf, authkey, QueueManager } from "./queue-manager.mjs";

const jobs = new ManagedQueue();
const results = new ManagedQueue();
QueueManager.register("jobs", () => jobs);
QueueManager.register("results", () => results);

const m = new QueueManager({ address: addressOf(process.argv[2] ?? "50000"), authkey });
const stop = new AbortController();
for (const s of ["SIGINT", "SIGTERM"]) process.once(s, () => stop.abort());
await m.serveForever({
  signal: stop.signal,
  onReady: (address) => console.log(`serving jobs on ${address.host}:${address.port}`),
});
console.log("server stopped");

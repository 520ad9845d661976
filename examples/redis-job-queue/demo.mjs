// `npm start`: the producer and two workers, each its own process, against the Redis at
// $REDIS_URL (default redis://127.0.0.1:6379). In real use each runs in its own terminal, or on
// its own machine.
import { spawn } from "node:child_process";
import { once } from "node:events";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const run = (file, ...args) => {
  const child = spawn(process.execPath, [new URL(file, import.meta.url).pathname, url, ...args], { stdio: "inherit" });
  return once(child, "exit");
};
await Promise.all([run("worker.mjs", "w1"), run("worker.mjs", "w2"), run("producer.mjs", "100")]);

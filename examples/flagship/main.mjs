// @ipc flagship: threads and processes working together with Python-style primitives.
//
// Worker threads estimate π in rounds: each adds its hits to a shared counter under a Lock and
// waits at a Barrier, whose action (run once per round, before anyone moves on) prints the running
// estimate. A child *process* uses the same Lock and an Event (mapping the same shared memory with
// @ipc/native, else through this process's broker), waits for the threads to finish, and prints
// under the Lock.
import { Barrier, Event, Lock } from "@ipc/core";
import { cpuCount, Process } from "@ipc/process";
import { ROUNDS, SAMPLES } from "./tasks.mjs";

const tasks = new URL("./tasks.mjs", import.meta.url);
const workers = Math.min(4, Math.max(2, cpuCount()));
// [hits, samples, samples per round]
const counts = new Float64Array(new SharedArrayBuffer(24));
counts[2] = workers * SAMPLES;
const lock = new Lock();
const done = new Event();
const barrier = new Barrier(workers, { action: { module: tasks, name: "report" } });
console.log(`@ipc flagship: ${workers} worker threads × ${ROUNDS} rounds × ${SAMPLES} samples, and one child process`);

const announcer = new Process({ module: tasks, target: "announce", args: [lock, done, workers], context: "process", name: "Announcer" });
announcer.start();
const started = performance.now();
const threads = Array.from({ length: workers }, (_, i) =>
  new Process({ module: tasks, target: "estimate", args: [counts, lock, barrier, 12345 + i * 7919], context: "thread" }),
);
for (const t of threads) t.start();
for (const t of threads) await t.join();
const ms = performance.now() - started;
done.set();
await announcer.join();
console.log(`π ≈ ${((4 * counts[0]) / counts[1]).toFixed(5)} from ${counts[1]} samples in ${ms.toFixed(0)} ms`);
console.log(`exit codes: threads ${threads.map((t) => t.exitCode).join(",")}; process ${announcer.exitCode}`);

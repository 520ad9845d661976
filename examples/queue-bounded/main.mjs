// Five processes put into a bounded Queue(maxSize: 2): a put waits while the queue is full, and the
// parent takes the five results as they come.
import { Queue } from "@ipc/queue";
import { currentProcess, isMainProcess, Process } from "@ipc/process";

export async function work(results, n) {
  await results.put({ n, square: n * n, by: currentProcess().name });
}

if (isMainProcess) {
  const context = process.argv[2] ?? "process";
  const results = new Queue({ maxSize: 2 });
  const workers = [1, 2, 3, 4, 5].map((n) => new Process({ module: import.meta.url, target: work, args: [results, n], context }));
  for (const w of workers) w.start();
  const got = [];
  for (let i = 0; i < workers.length; i++) {
    got.push(await results.get({ timeout: 30_000 }));
    console.log(`queue size now ${results.qsize()} (max ${results.maxSize})`);
  }
  for (const w of workers) await w.join();
  console.log(`squares: ${got.map((r) => r.square).sort((a, b) => a - b).join(" ")}`);
}

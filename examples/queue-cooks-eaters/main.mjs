// Cooks and eaters with a JoinableQueue: cooks put dishes, daemon eaters take them and mark each
// done; the main process waits on queue.join() until every dish has been eaten, then exits, and
// the daemon eaters are ended with it.
import { writeSync } from "node:fs";
import { JoinableQueue } from "@ipc/queue";
import { isMainProcess, Process } from "@ipc/process";

export async function cook(dishes, name, menu) {
  for (const dish of menu) {
    await dishes.put(`${dish} by ${name}`);
  }
}

export async function eat(dishes, name) {
  for (;;) {
    const dish = await dishes.get();
    // a direct write (console.log in a worker thread reaches the terminal asynchronously)
    writeSync(1, `${name} eats ${dish}\n`);
    dishes.taskDone();
  }
}

if (isMainProcess) {
  const context = process.argv[2] ?? "process";
  const dishes = new JoinableQueue();
  const eaters = ["Ann", "Bob"].map((name) => new Process({ module: import.meta.url, target: eat, args: [dishes, name], daemon: true, context }));
  const cooks = [
    new Process({ module: import.meta.url, target: cook, args: [dishes, "Cleo", ["soup", "bread"]], context }),
    new Process({ module: import.meta.url, target: cook, args: [dishes, "Dan", ["salad", "pie", "tea"]], context }),
  ];
  for (const p of [...eaters, ...cooks]) p.start();
  for (const c of cooks) await c.join();
  await dishes.join();
  console.log("all dishes eaten");
}

// Printing under a Lock from 10 processes, as in Python's docs:
// without the lock the output of different processes could get all mixed up.
import { Lock } from "@ipc/core";
import { isMainProcess, Process } from "@ipc/process";

export async function f(lock, i) {
  await lock.withLock(() => {
    console.log("hello world", i);
  });
}

if (isMainProcess) {
  const context = process.argv[2] ?? "process";
  const lock = new Lock();
  const children = Array.from({ length: 10 }, (_, num) =>
    new Process({ module: import.meta.url, target: f, args: [lock, num], context }),
  );
  for (const p of children) p.start();
  for (const p of children) await p.join();
}

// Processes do not share memory: each child appends to its own copy of the list.
// Python: `def f(L, i): L.append(i); print(L)` started in 10 processes prints 10 one-element lists.
import { isMainProcess, Process } from "@ipc/process";

export function appendAndPrint(list, i) {
  list.push(i);
  console.log(JSON.stringify(list));
}

if (isMainProcess) {
  const context = process.argv[2] ?? "process";
  const list = [];
  const children = Array.from({ length: 10 }, (_, i) =>
    new Process({ module: import.meta.url, target: appendAndPrint, args: [list, i], context }),
  );
  for (const p of children) p.start();
  for (const p of children) await p.join();
  console.log(`parent list: ${JSON.stringify(list)}`);
}

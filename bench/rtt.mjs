import { Pipe } from "@ipc/pipe";
import { Process } from "@ipc/process";
const pipeWorkers = new URL("/work/main/bench/cases/pipe-workers.mjs", import.meta.url).href;
const [a, b] = Pipe();
const p = new Process({ module: pipeWorkers, target: "echo", args: [b], context: "thread" });
p.start(); b.close();
const item = { id: 1, op: "put" };
a.send(item); await a.recv();
for (let r = 0; r < 3; r++) {
const n = 20000; const t0 = performance.now();
for (let i = 0; i < n; i++) { a.sendSync(item); a.recvSync(); }
console.log(((performance.now() - t0) / n * 1000).toFixed(1), "us");
}
a.send(null); await p.join();

import { Value, SharedArray } from "@ipc/shared";
import { Barrier, Lock, RLock } from "@ipc/core";
import { Process } from "@ipc/process";
const workers = new URL("./cases/workers.mjs", import.meta.url).href;
for (const kind of ["rlock", "lock", "rlock", "lock"]) {
  const n = 1_000_000;
  const v = new Value("i", 0, { lock: kind === "lock" ? new Lock() : new RLock() });
  const spans = new SharedArray("d", 4, { lock: false });
  const barrier = new Barrier(2);
  const ps = [0, 1].map((slot) => new Process({ module: workers, target: "incrementValue", args: [v, barrier, n, spans, slot], context: process.argv[2] ?? "thread" }));
  for (const p of ps) p.start();
  for (const p of ps) await p.join();
  const t = spans.toArray();
  console.log(kind, ((2 * n) / ((Math.max(t[1], t[3]) - Math.min(t[0], t[2])) / 1000) / 1e6).toFixed(2), v.value);
}

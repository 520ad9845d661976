import { Pool } from "@ipc/pool";
import Piscina from "piscina";
const mod = new URL("../../bench/cases/pool-tasks.mjs", import.meta.url);
for (let i = 0; i < 4; i++) {
  let t0 = performance.now(); const p = new Pool({ module: mod, processes: 2 }); await p.apply("square", [3]); const a = performance.now() - t0; await p.terminate();
  t0 = performance.now(); const q = new Piscina({ filename: mod.href, minThreads: 2, maxThreads: 2 }); await q.run(3); const b = performance.now() - t0; await q.destroy();
  console.log("ipc", a.toFixed(1), "piscina", b.toFixed(1));
}

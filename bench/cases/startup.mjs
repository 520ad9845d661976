// Start-up measured in a fresh node process: `node startup.mjs <what>` prints the milliseconds from
// the start of the measured step to its first result/message. Each run is its own process, so no
// module, compile cache or JIT state carries over from an earlier run.
import { fork } from "node:child_process";
import { Worker } from "node:worker_threads";

const what = process.argv[2];
const tasks = new URL("./pool-tasks.mjs", import.meta.url);
const workers = new URL("./workers.mjs", import.meta.url).href;
const emptyChild = new URL("./empty-child.mjs", import.meta.url);

async function measure() {
  switch (what) {
    case "ipc-pool": {
      const { Pool } = await import("@ipc/pool");
      const t0 = performance.now();
      const p = new Pool({ module: tasks, processes: 2 });
      await p.apply("square", [3]);
      const ms = performance.now() - t0;
      await p.terminate();
      return ms;
    }
    case "piscina": {
      const { default: Piscina } = await import("piscina");
      const t0 = performance.now();
      const p = new Piscina({ filename: tasks.href, minThreads: 2, maxThreads: 2 });
      await p.run(3);
      const ms = performance.now() - t0;
      await p.destroy();
      return ms;
    }
    case "ipc-thread":
    case "ipc-process": {
      const { Event } = await import("@ipc/core");
      const { Process } = await import("@ipc/process");
      const ready = new Event();
      const t0 = performance.now();
      const p = new Process({ module: workers, target: "hello", args: [ready], context: what === "ipc-thread" ? "thread" : "process" });
      p.start();
      await ready.wait();
      const ms = performance.now() - t0;
      await p.join();
      return ms;
    }
    case "empty-worker": {
      const t0 = performance.now();
      const w = new Worker("require('node:worker_threads').parentPort.postMessage(1)", { eval: true });
      await new Promise((r) => w.once("message", r));
      const ms = performance.now() - t0;
      await w.terminate();
      return ms;
    }
    case "empty-fork": {
      const t0 = performance.now();
      const c = fork(emptyChild);
      await new Promise((r) => c.once("message", r));
      const ms = performance.now() - t0;
      await new Promise((r) => c.once("exit", r));
      return ms;
    }
    default:
      throw new Error(`unknown start-up case ${what}`);
  }
}

process.stdout.write(`${(await measure()).toFixed(3)}\n`);

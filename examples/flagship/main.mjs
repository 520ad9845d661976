// @ipc flagship: index a generated corpus of a few hundred MB (count every word) on every core.
//
// The @ipc run is how a program would be written with it: a Pool whose workers take slices of the
// corpus (imapUnordered: results as they finish), a SharedStruct in shared memory that every
// worker adds its progress to (the progress bar reads it: no messages), and a Queue feeding a
// writer thread that records one line per slice. Then the same work three other ways: in one
// thread, with piscina, and with hand-written postMessage workers, and a table of all four.
// With `--redis redis://host:port`, a fifth run does the same on @ipc/redis's Pool (worker
// processes that take slices from Redis: on other machines they would need the corpus too).
// Usage: node main.mjs [--mb 200] [--redis redis://127.0.0.1:6379]
import { Worker } from "node:worker_threads";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Piscina from "piscina";
import { Pool } from "@ipc/pool";
import { cpuCount, Process } from "@ipc/process";
import { Queue } from "@ipc/queue";
import { SharedStruct } from "@ipc/shared";
import { corpus, slices } from "./corpus.mjs";
import { indexSlice } from "./tasks.mjs";

const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const mb = Number(arg("--mb") ?? 200);
const redisUrl = arg("--redis");
const workers = cpuCount();
const tasks = new URL("./tasks.mjs", import.meta.url);
const tty = process.stdout.isTTY === true;
const fmtMs = (ms) => `${(ms / 1000).toFixed(2)} s`;

let t = performance.now();
const path = corpus(mb);
console.log(`@ipc flagship: counting the words of a ${mb} MiB corpus (${path}, ready in ${fmtMs(performance.now() - t)}) on ${workers} CPUs\n`);
const parts = slices(path, Math.max(16, workers * 16));

/** Adds one slice's counts into the index. */
function merge(index, r) {
  for (let k = 0; k < r.words.length; k++) index.set(r.words[k], (index.get(r.words[k]) ?? 0) + r.counts[k]);
}
/** What every run must agree on. */
function summary(index) {
  let total = 0;
  for (const c of index.values()) total += c;
  const top = [...index].sort((a, b) => b[1] - a[1]).slice(0, 5);
  return { total, distinct: index.size, top: top.map(([w, c]) => `${w} ${c}`).join(", ") };
}

const runs = [];
async function timed(label, run) {
  const t0 = performance.now();
  const index = await run();
  runs.push({ label, ms: performance.now() - t0, summary: summary(index) });
}

// 1. one thread: the baseline
await timed("one thread", () => {
  const index = new Map();
  for (const p of parts) merge(index, indexSlice(p));
  return index;
});

// 2. @ipc: Pool + imapUnordered, live statistics in shared memory, a Queue feeding a writer thread
const indexFile = join(tmpdir(), `ipc-flagship-index-${process.pid}.ndjson`);
await timed(`@ipc Pool (${workers} threads), imapUnordered`, async () => {
  const stats = new SharedStruct({ bytesDone: "d", wordCount: "d", slicesDone: "i" });
  const pool = new Pool({ module: tasks, processes: workers, initializer: "useStats", initArgs: [stats] });
  const lines = new Queue();
  const writer = new Process({ module: tasks, target: "writer", args: [lines, indexFile], context: "thread", name: "writer" });
  writer.start();
  const total = parts.at(-1)[2];
  const started = performance.now();
  const bar = () => {
    const s = stats.toObject();
    const f = s.bytesDone / total;
    const mbps = s.bytesDone / 2 ** 20 / ((performance.now() - started) / 1000);
    return `[${"#".repeat(Math.round(f * 30)).padEnd(30, ".")}] ${(f * 100).toFixed(0).padStart(3)}%  ${mbps.toFixed(0)} MiB/s  ${(s.wordCount / 1e6).toFixed(1)}M words  ${s.slicesDone}/${parts.length} slices`;
  };
  const timer = tty ? setInterval(() => process.stdout.write(`\r  ${bar()}`), 100) : undefined;
  const index = new Map();
  for await (const r of pool.imapUnordered("indexSlice", parts)) {
    merge(index, r);
    await lines.put({ start: r.start, bytes: r.bytes, words: r.total, distinct: r.words.length });
  }
  clearInterval(timer);
  process.stdout.write(`${tty ? "\r" : ""}  ${bar()}\n`);
  lines.shutdown();
  await writer.join();
  pool.close();
  await pool.join();
  return index;
});

// 3. piscina
await timed(`piscina (${workers} threads)`, async () => {
  const piscina = new Piscina({ filename: tasks.href, name: "indexSlice", minThreads: workers, maxThreads: workers });
  const index = new Map();
  await Promise.all(parts.map((p) => piscina.run(p).then((r) => merge(index, r))));
  await piscina.destroy();
  return index;
});

// 4. hand-written postMessage workers: what Node gives without a library
await timed(`postMessage workers (${workers} threads)`, async () => {
  const index = new Map();
  const pool = Array.from({ length: workers }, () => new Worker(new URL("./postmessage-worker.mjs", import.meta.url)));
  let next = 0;
  await Promise.all(
    pool.map(
      (w) =>
        new Promise((resolve, reject) => {
          w.on("error", reject);
          w.on("message", ({ r }) => {
            merge(index, r);
            if (next < parts.length) w.postMessage({ id: next, slice: parts[next++] });
            else resolve();
          });
          if (next < parts.length) w.postMessage({ id: next, slice: parts[next++] });
          else resolve();
        }),
    ),
  );
  await Promise.all(pool.map((w) => w.terminate()));
  return index;
});

// 5. the same Pool API on Redis: one line changes (the import and the constructor)
if (redisUrl) {
  const { Pool: RedisPool } = await import("@ipc/redis");
  await timed(`@ipc/redis Pool (${workers} processes), imapUnordered`, async () => {
    const pool = new RedisPool({ connection: redisUrl, name: `flagship-${process.pid}`, module: tasks, processes: workers });
    const index = new Map();
    for await (const r of pool.imapUnordered("indexSlice", parts)) merge(index, r);
    pool.close();
    await pool.join();
    return index;
  });
}

const one = runs.find((r) => r.label === "one thread");
const same = runs.every((r) => JSON.stringify(r.summary) === JSON.stringify(one.summary));
console.log(`\n${one.summary.total.toLocaleString("en-US")} words, ${one.summary.distinct.toLocaleString("en-US")} distinct; top 5: ${one.summary.top}`);
console.log(`every run found the same counts: ${same ? "yes" : "NO"}; the writer thread wrote one line per slice to ${indexFile}\n`);
console.log("| run | time | MiB/s | vs one thread |");
console.log("|---|---:|---:|---:|");
for (const r of runs) {
  console.log(`| ${r.label} | ${fmtMs(r.ms)} | ${(mb / (r.ms / 1000)).toFixed(0)} | ${(one.ms / r.ms).toFixed(2)}× |`);
}
rmSync(indexFile, { force: true });
if (!same) process.exit(1);

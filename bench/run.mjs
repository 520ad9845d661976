// Runs every case side by side with its CPython counterpart in one run and prints the ratios.
// Usage: pnpm bench [--repeats N] [case ...]
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { cases } from "./cases/node-cases.mjs";
import { RESULT } from "./result-line.mjs";

/** Memory notes the cases reported (queue_1m's consumer RSS). */
const memoryNotes = [];

// `pnpm bench -- --repeats 3` passes the `--` on: it is not a case name
const args = process.argv.slice(2).filter((a) => a !== "--");
const ri = args.indexOf("--repeats");
const repeats = ri >= 0 ? Number(args.splice(ri, 2)[1]) : 5;
const unknown = args.filter((a) => !(a in cases));
if (unknown.length > 0) {
  console.error(`unknown case ${unknown.join(", ")}; cases: ${Object.keys(cases).join(", ")}`);
  process.exit(2);
}
const only = new Set(args);

/** Which CPython case each @ipc case is compared with. */
const python = {
  codec_small: "codec_small",
  codec_1k: "codec_1k",
  codec_large: "codec_large",
  lock_uncontended: "lock_uncontended",
  counter_2proc: "counter_2proc",
  lock_remote: "lock_remote",
  counter_value: "counter_2proc",
  manager_dict: "manager_dict",
  manager_start: "manager_start",
  array_fill_sum: "array_fill_sum",
  array_sum_api: "array_sum_api",
  shm_create_attach: "shm_create_attach",
  pipe_create: "pipe_create",
  pipe_small: "pipe_small",
  pipe_process: "pipe_small",
  pipe_1m: "pipe_1m",
  pipe_rtt: "pipe_rtt",
  queue_small: "queue_small",
  queue_obj: "queue_obj",
  queue_async: "queue_obj",
  pipe_async: "pipe_small",
  pipe_rtt_async: "pipe_rtt",
  queue_1k: "queue_1k",
  queue_1m: "queue_1m",
  queue_2to2: "queue_2to2",
  joinable: "joinable",
  pool_apply_async: "pool_apply_async",
  pool_imap_unordered: "pool_imap_unordered",
  pool_map: "pool_map",
  pool_apply_async_cold: "pool_apply_async_cold",
  pool_imap_unordered_cold: "pool_imap_unordered_cold",
  pool_map_cold: "pool_map_cold",
  pool_startup: "pool_startup",
  pool_startup_fresh: "pool_startup_fresh",
  start_thread_fresh: "start_fork_fresh",
  start_process_fresh: "start_spawn_fresh",
  start_thread: "start_fork",
  start_process: "start_spawn",
};
const pythonLabel = {
  codec_small: "pickle dumps+loads {id, op}",
  codec_1k: "pickle dumps+loads 1 KiB bytes",
  codec_large: "pickle dumps+loads 10k records + 1 MiB bytes",
  lock_uncontended: "mp.Lock acquire/release",
  counter_2proc: "Value('i') += 1 under get_lock(), 2 processes",
  lock_remote: "mp.Lock acquire/release in a child process",
  counter_value: "Value('i') += 1 under get_lock(), 2 processes",
  manager_dict: "Manager().dict(): d[i] = i; d[i] from a child process, sequential",
  manager_start: "Manager() to a dict's first reply",
  array_fill_sum: "Array('d', 1M) filled by a child through get_obj(), summed by the parent through get_obj()",
  array_sum_api: "sum(arr) over Array('d', 1M) (the lock per element)",
  shm_create_attach: "shared_memory.SharedMemory 1 MiB: create, attach by name, close both, unlink",
  pipe_create: "mp.Pipe(): make one, close both ends",
  pipe_small: "mp.Pipe one-way, child → parent, {id, op}",
  pipe_process: "mp.Pipe one-way, child → parent, {id, op}",
  pipe_1m: "mp.Pipe send_bytes 1 MiB, child → parent",
  pipe_rtt: "mp.Pipe round trip to a child, {id, op}",
  queue_small: "mp.Queue 1 → 1 processes, int",
  queue_obj: "mp.Queue 1 → 1 processes, {id, op}",
  queue_async: "mp.Queue 1 → 1 processes, {id, op}",
  pipe_async: "mp.Pipe one-way, child → parent, {id, op}",
  pipe_rtt_async: "mp.Pipe round trip to a child, {id, op}",
  queue_1k: "mp.Queue 1 → 1 processes, 1 KiB bytes",
  queue_1m: "mp.Queue 1 → 1 processes, 1 MiB bytes",
  queue_2to2: "mp.Queue 2 → 2 processes, int",
  joinable: "JoinableQueue put + task_done (process worker) + join",
  pool_apply_async: "Pool(2).apply_async × 10k",
  pool_imap_unordered: "Pool(2).imap_unordered over 100k (chunksize 1)",
  pool_map: "Pool(2).map over 100k, default chunksize",
  pool_apply_async_cold: "fresh Pool(2): apply_async × 10k",
  pool_imap_unordered_cold: "fresh Pool(2): imap_unordered over 100k (chunksize 1)",
  pool_map_cold: "fresh Pool(2): map over 100k, default chunksize",
  pool_startup: "Pool(2) (fork) to first result",
  pool_startup_fresh: "Pool(2) (fork) to first result, fresh python process",
  start_thread_fresh: "Process start (fork) to first message, fresh python process",
  start_process_fresh: "Process start (spawn) to first message, fresh python process",
  start_thread: "Process start (fork) to first message",
  start_process: "Process start (spawn) to first message",
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (v, unit) => (unit === "ms" ? `${v.toFixed(1)} ms` : unit === "us" ? `${v.toFixed(1)} µs` : `${Math.round(v).toLocaleString("en-US")}/s`);

const rows = [];
for (const [name, c] of Object.entries(cases)) {
  if (only.size && !only.has(name)) continue;
  const py = JSON.parse(
    execFileSync("python3", [new URL("./python/cases.py", import.meta.url).pathname, python[name], String(repeats)], { encoding: "utf8" }),
  );
  const pyMed = median(py.runs);
  // each case in a Node process of its own, as CPython's side runs (run-case.mjs)
  const out = execFileSync(process.execPath, [...process.execArgv, new URL("./run-case.mjs", import.meta.url).pathname, name, String(repeats)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = out.split("\n").findLast((l) => l.startsWith(RESULT));
  if (!line) throw new Error(`case ${name} reported nothing:\n${out}`);
  const result = JSON.parse(line.slice(RESULT.length));
  memoryNotes.push(...result.memoryNotes);
  for (const { label, runs } of result.variants) {
    const med = median(runs);
    // ratio > 1 means @ipc is better: faster rate, or shorter time
    const ratio = c.unit === "ms" || c.unit === "us" ? pyMed / med : med / pyMed;
    rows.push({ case: name, ipc: label, ipcValue: med, python: pythonLabel[name], pythonValue: pyMed, unit: c.unit, ratio, runs, pythonRuns: py.runs });
  }
}

console.log(`\n@ipc bench — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${repeats} runs each (median)\n`);
console.log("| case | @ipc | value | CPython | value | ratio (× better) |");
console.log("|---|---|---:|---|---:|---:|");
for (const r of rows) {
  console.log(`| ${r.case} | ${r.ipc} | ${fmt(r.ipcValue, r.unit)} | ${r.python} | ${fmt(r.pythonValue, r.unit)} | ${r.ratio.toFixed(2)} |`);
}
if (memoryNotes.length > 0) {
  console.log("\nMemory of the consumer while large items stream (RSS of the case's process, MiB):\n");
  console.log("| case | items | RSS at start | RSS at end |");
  console.log("|---|---:|---:|---:|");
  for (const m of memoryNotes) console.log(`| ${m.case} | ${m.items.toLocaleString("en-US")} | ${m.rssStartMiB.toFixed(0)} | ${m.rssEndMiB.toFixed(0)} |`);
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/latest.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, rows }, null, 2));

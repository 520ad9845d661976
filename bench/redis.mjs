// @ipc/redis side by side with its Node peers on one redis-server, in one run: a distributed map
// against BullMQ with one job per item, Queue put/get against raw ioredis LPUSH/BRPOP with the same
// number of calls in flight, and the latency of one Pool.apply against a raw Redis round trip.
// Usage: node redis.mjs [--repeats N] [--items N]. Needs Debian's redis-server (or REDIS_SERVER).
import { fork, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { Queue as BullQueue } from "bullmq";
import { Redis } from "ioredis";
import { Pool, Queue } from "@ipc/redis";

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const repeats = opt("--repeats", 3);
const ITEMS = opt("--items", 100_000);
const QUEUE_ITEMS = 20_000;
const WINDOW = 64;
const tasks = new URL("./cases/pool-tasks.mjs", import.meta.url);

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), "ipc-bench-redis-"));
  const port = await freePort();
  const proc = spawn(process.env.REDIS_SERVER ?? "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    let out = "";
    proc.once("error", reject);
    proc.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) resolve();
    });
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => (proc.kill(), rmSync(dir, { recursive: true, force: true })) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let seq = 0;
const fresh = (what) => `bench-${what}-${process.pid}-${seq++}`;

/** Runs `n` calls of `op(i)` with at most `window` in flight. */
async function windowed(n, window, op) {
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) await op(next++);
    }),
  );
}

const redis = await startRedis();
const url = redis.url;
const rows = [];
const record = (group, label, unit, runs) => rows.push({ group, label, unit, value: median(runs), runs });

try {
  // 1. distributed map: @ipc/redis Pool (chunks) against BullMQ (one job per item), 2 worker processes
  {
    const warm = new Pool({ connection: url, name: fresh("map"), module: tasks, processes: 2 });
    await warm.apply("square", [1]);
    const ipcRuns = [];
    const coldRuns = [];
    for (let r = 0; r < repeats; r++) {
      const xs = Array.from({ length: ITEMS }, (_, i) => i);
      let t = performance.now();
      await warm.map("square", xs);
      ipcRuns.push(ITEMS / ((performance.now() - t) / 1000));
      // cold: a new pool, its two workers started, then the same map
      t = performance.now();
      const cold = new Pool({ connection: url, name: fresh("map-cold"), module: tasks, processes: 2 });
      await cold.map("square", xs);
      coldRuns.push(ITEMS / ((performance.now() - t) / 1000));
      await cold.terminate();
    }
    await warm.terminate();
    record("map", `@ipc/redis Pool(processes: 2).map over ${ITEMS.toLocaleString("en-US")} (default chunks), warm`, "rate", ipcRuns);
    record("map", `@ipc/redis: new Pool(processes: 2) + map over ${ITEMS.toLocaleString("en-US")}, cold (worker start included)`, "rate", coldRuns);

    // the same per-job cost BullMQ pays: one job per item (fewer items: it is slower)
    {
      const one = new Pool({ connection: url, name: fresh("map-one"), module: tasks, processes: 2 });
      await one.apply("square", [1]);
      const runs = [];
      const n = Math.min(ITEMS, 20_000);
      for (let r = 0; r < repeats; r++) {
        const t = performance.now();
        await one.map("square", Array.from({ length: n }, (_, i) => i), { chunkSize: 1 });
        runs.push(n / ((performance.now() - t) / 1000));
      }
      await one.terminate();
      record("map", `@ipc/redis Pool(processes: 2).map over ${n.toLocaleString("en-US")}, chunkSize 1 (one job per item), warm`, "rate", runs);
    }

    for (const concurrency of [1, 50]) {
      const bullRuns = [];
      for (let r = 0; r < repeats; r++) {
        const name = fresh("bull");
        const workers = [0, 1].map(() => fork(new URL("./cases/redis-bullmq-worker.mjs", import.meta.url), [url, name, String(concurrency)]));
        await Promise.all(workers.map((w) => new Promise((res) => w.once("message", res))));
        const { hostname: host, port } = new URL(url);
        const q = new BullQueue(name, { connection: { host, port: Number(port) } });
        const done = new Map();
        const all = new Promise((resolve) => {
          for (const w of workers) {
            w.on("message", (m) => {
              if (m.done === undefined) return;
              done.set(w, m.done);
              if ([...done.values()].reduce((a, b) => a + b, 0) >= ITEMS) resolve();
            });
          }
        });
        const t = performance.now();
        for (let i = 0; i < ITEMS; i += 1000) {
          await q.addBulk(Array.from({ length: Math.min(1000, ITEMS - i) }, (_, k) => ({ name: "square", data: i + k, opts: { removeOnComplete: true } })));
        }
        await all;
        bullRuns.push(ITEMS / ((performance.now() - t) / 1000));
        for (const w of workers) w.send("stop");
        await Promise.all(workers.map((w) => new Promise((res) => w.once("exit", res))));
        await q.obliterate({ force: true }).catch(() => {});
        await q.close();
      }
      record("map", `BullMQ: addBulk ${ITEMS.toLocaleString("en-US")} jobs (one per item), 2 worker processes, concurrency ${concurrency}`, "rate", bullRuns);
    }
  }

  // 2. queue throughput: put/get with WINDOW calls in flight on each side, producer and consumer on their own connections
  {
    const ipcRuns = [];
    const rawRuns = [];
    for (let r = 0; r < repeats; r++) {
      const name = fresh("q");
      const producer = new Queue({ connection: url, name });
      const consumer = new Queue({ connection: url, name });
      await Promise.all([producer.qsize(), consumer.qsize()]);
      let t = performance.now();
      await Promise.all([
        windowed(QUEUE_ITEMS, WINDOW, (i) => producer.put({ id: i, op: "add" })),
        windowed(QUEUE_ITEMS, WINDOW, () => consumer.get()),
      ]);
      ipcRuns.push(QUEUE_ITEMS / ((performance.now() - t) / 1000));
      await Promise.all([producer.close(), consumer.close()]);

      const key = fresh("raw");
      const a = new Redis(url);
      const b = new Redis(url);
      await Promise.all([a.ping(), b.ping()]);
      t = performance.now();
      await Promise.all([
        windowed(QUEUE_ITEMS, WINDOW, (i) => a.lpush(key, JSON.stringify({ id: i, op: "add" }))),
        windowed(QUEUE_ITEMS, WINDOW, () => b.brpop(key, 0)),
      ]);
      rawRuns.push(QUEUE_ITEMS / ((performance.now() - t) / 1000));
      a.disconnect();
      b.disconnect();
    }
    record("queue", `@ipc/redis Queue: put + get of {id, op} × ${QUEUE_ITEMS.toLocaleString("en-US")}, ${WINDOW} in flight each side`, "rate", ipcRuns);
    record("queue", `raw ioredis: LPUSH + BRPOP of JSON {id, op} × ${QUEUE_ITEMS.toLocaleString("en-US")}, ${WINDOW} in flight each side`, "rate", rawRuns);
  }

  // 3. latency: one apply round trip (client → worker → client) against one raw Redis round trip
  {
    const p = new Pool({ connection: url, name: fresh("rtt"), module: tasks, processes: 1 });
    await p.apply("square", [1]);
    const c = new Redis(url);
    await c.ping();
    const applyRuns = [];
    const pingRuns = [];
    const N = 2000;
    for (let r = 0; r < repeats; r++) {
      let t = performance.now();
      for (let i = 0; i < N; i++) await p.apply("square", [i]);
      applyRuns.push(((performance.now() - t) * 1000) / N);
      t = performance.now();
      for (let i = 0; i < N; i++) await c.ping();
      pingRuns.push(((performance.now() - t) * 1000) / N);
    }
    await p.terminate();
    c.disconnect();
    record("latency", "@ipc/redis Pool.apply round trip (1 worker process), sequential", "us", applyRuns);
    record("latency", "raw ioredis PING round trip, sequential", "us", pingRuns);
  }
} finally {
  redis.stop();
}

const fmt = (v, unit) => (unit === "us" ? `${v.toFixed(1)} µs` : `${Math.round(v).toLocaleString("en-US")}/s`);
console.log(`\n@ipc/redis bench — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, redis-server on loopback, ${repeats} runs each (median)\n`);
console.log("The first row of each group is @ipc/redis; the last column is how many times better it is than that row (rates: its rate ÷ this rate; latency: this time ÷ its time).\n");
console.log("| what | value | @ipc/redis ÷ this |");
console.log("|---|---:|---:|");
const firstOf = new Map();
for (const r of rows) {
  if (!firstOf.has(r.group)) firstOf.set(r.group, r);
  const f = firstOf.get(r.group);
  const ratio = r.unit === "us" ? r.value / f.value : f.value / r.value;
  console.log(`| ${r.label} | ${fmt(r.value, r.unit)} | ${r === f ? "—" : `${ratio.toFixed(2)}×`} |`);
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/redis-latest.json", import.meta.url), JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
process.exit(0);

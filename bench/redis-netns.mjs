// The scale-out shape on one machine: Redis on "machine A", two worker processes on "machine B",
// the client on "machine C", each its own network namespace on one bridge (10.79.0.1-3), so every
// call crosses a real network stack. Needs root and `ip netns` (prints why not otherwise).
// Usage: node redis-netns.mjs [--items N]
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const items = process.argv.includes("--items") ? Number(process.argv[process.argv.indexOf("--items") + 1]) : 100_000;
const tag = process.pid % 10000;
const ns = { redis: `ipcA${tag}`, workers: `ipcB${tag}`, client: `ipcC${tag}` };
const br = `ipcbr${tag}`;
const ip = (...args) => spawnSync("ip", args, { stdio: "ignore" }).status === 0;

function up() {
  if (!ip("link", "add", br, "type", "bridge") || !ip("link", "set", br, "up")) return false;
  let n = 1;
  for (const name of Object.values(ns)) {
    const v = `v${name}`;
    const ok =
      ip("netns", "add", name) &&
      ip("link", "add", v, "type", "veth", "peer", "name", `${v}b`) &&
      ip("link", "set", v, "netns", name) &&
      ip("link", "set", `${v}b`, "master", br) &&
      ip("link", "set", `${v}b`, "up") &&
      ip("-n", name, "addr", "add", `10.79.0.${n++}/24`, "dev", v) &&
      ip("-n", name, "link", "set", v, "up") &&
      ip("-n", name, "link", "set", "lo", "up");
    if (!ok) return false;
  }
  return true;
}
function down() {
  for (const name of Object.values(ns)) {
    spawnSync("ip", ["link", "del", `v${name}b`], { stdio: "ignore" });
    spawnSync("ip", ["netns", "del", name], { stdio: "ignore" });
  }
  spawnSync("ip", ["link", "del", br], { stdio: "ignore" });
}

if (!up()) {
  down();
  console.log("network namespaces are not available here (needs root and ip netns): nothing measured");
  process.exit(0);
}
const procs = [];
try {
  const redis = spawn("ip", ["netns", "exec", ns.redis, process.env.REDIS_SERVER ?? "redis-server", "--port", "6379", "--bind", "10.79.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"], { stdio: ["ignore", "pipe", "inherit"] });
  procs.push(redis);
  await new Promise((resolve) => {
    let out = "";
    redis.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) resolve();
    });
  });
  const url = "redis://10.79.0.1:6379";
  const cli = fileURLToPath(new URL("../packages/redis/dist/cli.js", import.meta.url));
  const tasks = fileURLToPath(new URL("./cases/pool-tasks.mjs", import.meta.url));
  const workers = spawn("ip", ["netns", "exec", ns.workers, process.execPath, cli, "--url", url, "--name", "netns", "--module", tasks, "--processes", "2"], { stdio: ["ignore", "pipe", "inherit"] });
  procs.push(workers);
  await new Promise((resolve) => {
    let out = "";
    workers.stdout.on("data", (d) => {
      out += d;
      if ((out.match(/ready for pool/g) ?? []).length >= 2) resolve();
    });
  });
  const client = `
    import { Pool } from "@ipc/redis";
    import { Redis } from "ioredis";
    const url = ${JSON.stringify(url)};
    const p = new Pool({ connection: url, name: "netns" });
    await p.apply("square", [1]);
    const xs = Array.from({ length: ${items} }, (_, i) => i);
    let t = performance.now();
    await p.map("square", xs);
    const mapRate = ${items} / ((performance.now() - t) / 1000);
    const ys = xs.slice(0, 20000);
    t = performance.now();
    await p.map("square", ys, { chunkSize: 1 });
    const oneRate = ys.length / ((performance.now() - t) / 1000);
    t = performance.now();
    for (let i = 0; i < 1000; i++) await p.apply("square", [i]);
    const apply = (performance.now() - t);
    const r = new Redis(url);
    await r.ping();
    t = performance.now();
    for (let i = 0; i < 1000; i++) await r.ping();
    const ping = (performance.now() - t);
    r.disconnect();
    await p.terminate();
    console.log(JSON.stringify({ mapRate, oneRate, applyUs: apply, pingUs: ping }));
    process.exit(0);
  `;
  const out = execFileSync("ip", ["netns", "exec", ns.client, process.execPath, "--input-type=module", "-e", client], { cwd: fileURLToPath(new URL(".", import.meta.url)), encoding: "utf8" });
  const m = JSON.parse(out.trim().split("\n").at(-1));
  const f = (v) => Math.round(v).toLocaleString("en-US");
  console.log(`\nRedis on 10.79.0.1 (namespace A), 2 workers on 10.79.0.2 (B), the client on 10.79.0.3 (C), one bridge\n`);
  console.log("| what | value |");
  console.log("|---|---:|");
  console.log(`| Pool.map over ${f(items)} (default chunks) | ${f(m.mapRate)}/s |`);
  console.log(`| Pool.map over 20,000, chunkSize 1 (one job per item) | ${f(m.oneRate)}/s |`);
  console.log(`| Pool.apply round trip, sequential | ${m.applyUs.toFixed(1)} µs |`);
  console.log(`| raw ioredis PING round trip, sequential | ${m.pingUs.toFixed(1)} µs |`);
} finally {
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => (p.exitCode !== null ? null : new Promise((r) => p.once("exit", r)))));
  down();
}

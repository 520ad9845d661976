#!/usr/bin/env node
/**
 * `ipc-redis-worker`: starts workers of a distributed Pool on this machine.
 *
 *   ipc-redis-worker --url redis://host:6379 --name jobs --module ./tasks.mjs [--processes 2]
 *                    [--concurrency 1] [--prefetch 4] [--lease 30000] [--prefix ipc] [--initializer init --init-args '[...]']
 *
 * With `--processes N` (default: one per CPU) it starts N worker processes and replaces any that
 * dies. SIGINT or SIGTERM stops taking jobs; running jobs finish, then it exits.
 */
import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runWorker } from "./pool-worker.js";

const USAGE = "usage: ipc-redis-worker --url redis://host:port --name <pool> --module <file> [--processes N] [--concurrency N] [--prefetch N] [--lease ms] [--prefix p] [--initializer fn --init-args json]";

function fail(msg: string): never {
  process.stderr.write(`ipc-redis-worker: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      url: { type: "string" },
      name: { type: "string" },
      module: { type: "string" },
      processes: { type: "string" },
      concurrency: { type: "string" },
      prefetch: { type: "string" },
      lease: { type: "string" },
      prefix: { type: "string" },
      initializer: { type: "string" },
      "init-args": { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
}
try {
  parsed = parse();
} catch (e) {
  fail((e as Error).message);
}
const v = parsed.values;
if (v.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!v.url || !v.name || !v.module) fail("--url, --name and --module are required");
const url = v.url;
const name = v.name;
const module = v.module;
const num = (s: string | undefined, what: string): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) fail(`--${what} must be a positive integer, got ${JSON.stringify(s)}`);
  return n;
};
const processes = num(v.processes, "processes") ?? (process.env.IPC_REDIS_WORKER_CHILD ? 1 : availableParallelism());
const concurrency = num(v.concurrency, "concurrency");
const prefetch = num(v.prefetch, "prefetch");
const leaseMs = num(v.lease, "lease");
let initArgs: unknown[] | undefined;
if (v["init-args"] !== undefined) {
  try {
    initArgs = JSON.parse(v["init-args"]) as unknown[];
  } catch {
    fail("--init-args must be a JSON array");
  }
}

async function serve(): Promise<void> {
  const ac = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => ac.abort());
  // started by a Pool (or a supervisor) over an IPC channel: stop when that parent is gone
  if (process.send !== undefined) process.once("disconnect", () => ac.abort());
  try {
    await runWorker({
      connection: url,
      name,
      module,
      prefix: v.prefix,
      concurrency,
      prefetch,
      leaseMs,
      initializer: v.initializer,
      initArgs,
      signal: ac.signal,
      onReady: (id) => process.stdout.write(`ipc-redis-worker: worker ${id} ready for pool ${v.name}\n`),
    });
  } catch (e) {
    process.stderr.write(`ipc-redis-worker: ${(e as Error).name}: ${(e as Error).message}\n`);
    process.exit(1);
  }
  process.exit(0);
}

function supervise(): void {
  // a supervisor: N single workers, each replaced when it dies unexpectedly
  const self = fileURLToPath(import.meta.url);
  const children = new Set<ChildProcess>();
  let stopping = false;
  let backoff = 0;
  const start = (): void => {
    const child = fork(self, process.argv.slice(2), { env: { ...process.env, IPC_REDIS_WORKER_CHILD: "1" }, stdio: "inherit" });
    const born = performance.now();
    children.add(child);
    child.once("exit", (code) => {
      children.delete(child);
      if (stopping) {
        if (children.size === 0) process.exit(process.exitCode ?? 0);
      } else if (code === 2 || (code === 1 && performance.now() - born < 2000 && backoff >= 5000)) {
        // bad arguments, or it keeps failing at start (URL, module, credentials): give up
        stopping = true;
        for (const c of children) c.kill("SIGTERM");
        process.exitCode = code ?? 1;
        if (children.size === 0) process.exit(process.exitCode);
      } else {
        // replaced; one that died young after a growing pause (Redis may be restarting)
        backoff = performance.now() - born < 2000 ? Math.min(5000, Math.max(100, backoff * 2)) : 0;
        setTimeout(start, backoff);
      }
    });
  };
  for (let i = 0; i < processes; i++) start();
  const stop = (): void => {
    stopping = true;
    for (const c of children) c.kill("SIGTERM");
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, stop);
  if (process.send !== undefined) process.once("disconnect", stop);
}

if (processes === 1 || process.env.IPC_REDIS_WORKER_CHILD) void serve();
else supervise();

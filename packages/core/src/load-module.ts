/**
 * Loading the module a child runs (a Process target, a pool's task module) as fast as Node allows.
 */
import { fileURLToPath } from "node:url";
import { lazyRequire } from "./lazy-require.js";

/** Errors of `require()` that mean "this module needs `import()`", not "this module failed". */
const NEEDS_IMPORT = new Set(["ERR_REQUIRE_ESM", "ERR_REQUIRE_ASYNC_MODULE", "ERR_REQUIRE_CYCLE_MODULE", "ERR_UNKNOWN_FILE_EXTENSION"]);

type Namespace = Record<string, unknown>;

/**
 * `import()` that stays one in every build: the CommonJS build of this package turns a literal
 * `import(x)` into `require(x)`, which cannot load ES modules with top-level await or URLs.
 */
const dynamicImport = new Function("url", "return import(url)") as (url: string) => Promise<Namespace>;
const requireHere = lazyRequire(import.meta.url);

/**
 * Imports `url` and returns its namespace, as `import(url)` does. A JavaScript file is loaded with
 * `require()`: Node (>= 20.19) loads an ES module synchronously that way, and in a fresh worker
 * that takes ~2 ms where the first `import()` takes ~8-10 ms (the async loader's first use;
 * measured as part of a pool's start to first result). An ES module gives its namespace (with
 * `__esModule: true` added when it has a default export, as Node's `require(esm)` does); a
 * CommonJS module gives its exports with `default` set to them, as `import()` would. A module with
 * top-level `await` and any other URL go through `import()`. An error thrown while evaluating the
 * module is thrown as it is.
 */
export async function loadModule(url: string): Promise<Namespace> {
  if (url.startsWith("file:") && /\.m?js$/.test(url)) {
    let loaded: unknown;
    try {
      loaded = requireHere(fileURLToPath(url));
    } catch (error) {
      if (!NEEDS_IMPORT.has((error as { code?: string }).code ?? "")) throw error;
      return dynamicImport(url);
    }
    if (loaded !== null && typeof loaded === "object" && (loaded as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "Module") return loaded as Namespace;
    return { ...(loaded as object), default: loaded };
  }
  return dynamicImport(url);
}

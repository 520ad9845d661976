/**
 * Which modules a receiver may load to revive a handle type it has not registered (see handle.ts).
 * A descriptor's `module` is chosen by the sender, so it is loaded only when
 *
 * - the type is one of @ipc's own (`@ipc/<name>:...`, `<name>` one of our packages) and the URL
 *   lies inside the copy of `@ipc/<name>` this receiver resolves itself (from this package, the
 *   main module, the working directory, or a base a child's bootstrap added); without such a URL
 *   the package's own entry is loaded;
 * - the program allowed it ({@link allowHandleModule}), as a parent does for the modules it names
 *   at its child's start-up.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SerializationError } from "../errors/errors.js";
import { loadModuleSync } from "../load-module.js";
import { isolateState } from "../isolate-state.js";

/** @ipc's packages whose types a receiver loads from its own dependencies. */
const OWN_PACKAGES = new Set(["core", "process", "queue", "pipe", "shared", "manager", "pool", "redis"]);

// per isolate, shared by the ESM and CJS builds
const allowed = isolateState("@ipc/core:allowedHandleModules", () => new Set<string>());
const bases = isolateState("@ipc/core:handleResolutionBases", () => new Set<string>());
const roots = new Map<string, { root: string; entry: string } | null>();

function normalize(module: string | URL): string {
  const s = String(module);
  return s.startsWith("file:") ? pathToFileURL(fileURLToPath(s)).href : s;
}

/**
 * Allows handles whose descriptor names `module` to load it in this thread when their type is not
 * registered yet. Only for modules this program trusts: loading a module runs it.
 *
 * @example
 * allowHandleModule(new URL("./my-handle-type.js", import.meta.url));
 */
export function allowHandleModule(module: string | URL): void {
  if (typeof module !== "string" && !(module instanceof URL)) throw new TypeError("Expected `module` to be a URL or a string");
  allowed.add(normalize(module));
}

/** True when the program allowed `module` (see {@link allowHandleModule}). */
export function isAllowedModule(module: string): boolean {
  try {
    return allowed.has(normalize(module));
  } catch {
    return false;
  }
}

/**
 * Adds a place @ipc's own packages are resolved from when a handle of theirs arrives (a child's
 * bootstrap adds its target module: the program's dependencies are the ones to trust).
 * @internal
 */
export function addHandleResolutionBase(url: string): void {
  if (url.startsWith("file:")) bases.add(url);
}

/** The real directory and entry file of the `@ipc/<name>` package this isolate would load, or null. */
function packageRoot(name: string): { root: string; entry: string } | null {
  const cached = roots.get(name);
  if (cached !== undefined) return cached;
  let found: { root: string; entry: string } | null = null;
  const from = [import.meta.url, ...bases, ...(process.argv[1] ? [pathToFileURL(process.argv[1]).href] : []), pathToFileURL(join(process.cwd(), "x.js")).href];
  for (const base of from) {
    try {
      const entry = realpathSync(process.getBuiltinModule("node:module").createRequire(base).resolve(`@ipc/${name}`));
      const root = ownRoot(entry, `@ipc/${name}`);
      if (root) {
        found = { root, entry };
        break;
      }
    } catch {
      // not resolvable from there
    }
  }
  roots.set(name, found);
  return found;
}

/** The directory above `file` whose package.json names `pkg`. */
function ownRoot(file: string, pkg: string): string | null {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === pkg) return dir;
      } catch {
        // unreadable: keep looking
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * The module to load for a type of @ipc's own packages: the sender's URL when it is a file inside
 * this receiver's copy of the package, else the package's entry; undefined for other types.
 */
export function ownPackageModule(type: string, module: string | undefined): string | undefined {
  const m = /^@ipc\/([a-z]+):/.exec(type);
  if (!m || !OWN_PACKAGES.has(m[1])) return undefined;
  const pkg = packageRoot(m[1]);
  if (!pkg) return undefined;
  if (module?.startsWith("file:")) {
    try {
      const path = realpathSync(fileURLToPath(module));
      if (path.startsWith(pkg.root + sep)) return pathToFileURL(path).href;
    } catch {
      // not a file here: use the package's entry
    }
  }
  return pathToFileURL(pkg.entry).href;
}

/** Loads a module synchronously so it can register its handle types (Node >= 20.19 can require ESM). */
export function loadSync(module: string): void {
  try {
    loadModuleSync(module);
  } catch (error) {
    throw new SerializationError(`cannot load ${module} to revive a handle`, { cause: error });
  }
}

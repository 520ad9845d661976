/**
 * Start-up of CommonJS thread children (pool workers): the parent tells the child where
 * `@ipc/core/slim` is, and the child seeds Node's CommonJS resolution cache with it before its
 * modules require it by name.
 *
 * Why: resolving a bare specifier through a package's `"exports"` costs ~2 ms per lookup in a
 * fresh worker (Node compiles its path-validation regular expressions in each isolate), and a
 * pool worker made two such lookups: ~5 ms of a ~60 ms start (bench `pool_startup`; piscina's
 * worker requires only relative files). The seeded entry is keyed exactly as Node's own lookup
 * computes it (with Node's own `_resolveLookupPaths`); where Node's internals differ the entry is
 * never hit and the lookup happens as usual, so this can only save time.
 */
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";

/** "cjs" or "esm" in a build (tsup.shared.ts defines it); undeclared when run from sources. */
declare const __IPC_FORMAT__: string | undefined;
declare const require: { cache: Record<string, { constructor: unknown } | undefined> };

/** A bare specifier as required from files in `from`, and the file it resolves to. */
export interface ResolutionHint {
  from: string;
  request: string;
  filename: string;
}

const REQUEST = "@ipc/core/slim";
const known = new Map<string, ResolutionHint | null>();

/** Hints for CommonJS files `files` (file URLs) that require `@ipc/core/slim` (parent side). */
export function resolutionHints(files: readonly URL[]): ResolutionHint[] {
  const hints: ResolutionHint[] = [];
  for (const file of files) {
    const from = dirname(fileURLToPath(file));
    if (!known.has(from)) {
      let hint: ResolutionHint | null = null;
      try {
        const filename = process.getBuiltinModule("node:module").createRequire(file).resolve(REQUEST);
        hint = { from, request: REQUEST, filename };
      } catch {
        // not resolvable from there: the child resolves (and fails) as it would have
      }
      known.set(from, hint);
    }
    const hint = known.get(from);
    if (hint) hints.push(hint);
  }
  return hints;
}

interface ModuleInternals {
  _pathCache?: Record<string, string>;
  _nodeModulePaths?(from: string): string[];
  _resolveLookupPaths?(request: string, parent: { paths: string[] }): string[] | null;
}

/** Seeds the resolution cache of this (CommonJS) child with `hints` (child side). */
export function applyResolutionHints(hints: readonly ResolutionHint[] | undefined): void {
  if (!hints?.length || typeof __IPC_FORMAT__ === "undefined" || __IPC_FORMAT__ !== "cjs") return;
  const anyModule = Object.values(require.cache)[0];
  const Module = anyModule?.constructor as ModuleInternals | undefined;
  const cache = Module?._pathCache;
  if (!Module || !cache || typeof Module._nodeModulePaths !== "function" || typeof Module._resolveLookupPaths !== "function") return;
  for (const { from, request, filename } of hints) {
    const paths = Module._resolveLookupPaths(request, { paths: Module._nodeModulePaths(from) });
    if (paths) cache[`${request}\x00${paths.join("\x00")}`] = filename;
  }
}

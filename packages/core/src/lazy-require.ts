/** `require` for ES module code, made on first use. */

/** "cjs" or "esm" in a build (tsup.shared.ts defines it); undeclared when run from sources. */
declare const __IPC_FORMAT__: string | undefined;
declare const require: (id: string) => unknown;

/**
 * A `require` resolving from `base` (the calling file's URL). The CommonJS build uses its own
 * `require`; otherwise it is made with `createRequire` when first called: loading `node:module`
 * costs ~1.5 ms in a fresh worker, part of every pool worker's start-up.
 */
export function lazyRequire(base: string): (id: string) => unknown {
  if (typeof __IPC_FORMAT__ !== "undefined" && __IPC_FORMAT__ === "cjs") return require;
  let made: ((id: string) => unknown) | undefined;
  return (id) => (made ??= process.getBuiltinModule("node:module").createRequire(base))(id);
}

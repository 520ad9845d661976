import { defineConfig } from "tsup";

/** The build every @ipc package uses: ESM + CJS + types. Every file started as a Worker or fork is its own entry. */
export function ipcBuild(entry: string[], options: { splitting?: boolean } = {}) {
  return defineConfig({
    entry,
    format: ["esm", "cjs"],
    // TypeScript 6: tsup 8.5 passes baseUrl to the dts build, which TS 6 rejects (TS5101)
    // the declarations use Node's types (Buffer, NodeJS.*): they reference them, so a user's
    // tsconfig needs no `"types": ["node"]` (each package depends on @types/node)
    dts: { compilerOptions: { ignoreDeprecations: "6.0" }, banner: '/// <reference types="node" />' },
    clean: true,
    sourcemap: true,
    target: "node20",
    // gives the CJS build an import.meta.url; keeps class names (Process subclasses are found by name)
    shims: true,
    keepNames: true,
    // ESM only: shared chunks between entries (CJS entries stay self-contained)
    splitting: options.splitting ?? false,
    external: ["tsx", "tsx/esm/api"],
    // lets code tell its CommonJS build (which has a `require` of its own) from its ES build
    esbuildOptions(options, context) {
      options.define = { ...options.define, __IPC_FORMAT__: JSON.stringify(context.format) };
    },
  });
}

import { defineConfig } from "tsup";

export default defineConfig({
  // every file started as a Worker or a forked child is its own entry
  entry: ["src/index.ts", "src/thread-child.ts", "src/process-child.ts"],
  format: ["esm", "cjs"],
  // TypeScript 6: tsup 8.5 passes baseUrl to the dts build, which TS 6 rejects (TS5101)
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  clean: true,
  sourcemap: true,
  target: "node20",
  shims: true,
  keepNames: true,
  splitting: false,
  external: ["tsx", "tsx/esm/api"],
});

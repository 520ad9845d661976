// Linting with typescript-eslint: its type-aware rules use the real TypeScript checker, and a
// promise nobody awaits or handles is the bug this library of async waits must never ship.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/*.d.ts", "**/*.d.cts", ".tools/**", "bench/**", "examples/**", "**/test/**", "**/*.config.ts", "scripts/**", "tsup.shared.ts", "vitest.shared.ts"] },
  {
    files: ["packages/*/src/**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
      // the encoder throws a marker that is not an Error on purpose: no stack is captured while unwinding
      "@typescript-eslint/only-throw-error": ["error", { allow: [{ from: "file", name: "PathError" }] }],
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
);

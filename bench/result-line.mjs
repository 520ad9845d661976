/** Marks the line on which bench/run-case.mjs reports a case's runs (see run.mjs). */
export const RESULT = "@@ipc-bench-result@@ ";

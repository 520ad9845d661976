import { defineConfig } from "vitest/config";

/** The vitest project config every package uses; adds a JSON report when CI asks for one. */
export function ipcProject(name: string) {
  const reportDir = process.env.IPC_TEST_REPORT_DIR;
  // a second run without @ipc/native (IPC_NATIVE=0) covers the broker paths between processes
  const file = name.replace(/[@/]/g, "_") + (process.env.IPC_NATIVE === "0" ? "-broker" : "");
  return defineConfig({
    test: {
      name: process.env.IPC_NATIVE === "0" ? `${name} (IPC_NATIVE=0)` : name,
      environment: "node",
      include: ["test/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      fileParallelism: false,
      ...(reportDir
        ? { reporters: ["default", "json"], outputFile: { json: `${reportDir}/${file}.json` } }
        : {}),
    },
  });
}

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it.each(["process", "thread"])("%s: the consumer gets every item in order and stops at the sentinel", async (context) => {
  const { stdout } = await run(process.execPath, [main, context], { timeout: 60_000 });
  expect(stdout.trim().split("\n")).toEqual([
    ...[1, 2, 3, 4, 5].map((i) => `Consumer got item ${i}`),
    "Consumer done, sum of squares 55",
    "exit codes 0 0",
  ]);
});

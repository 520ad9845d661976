import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it("threads and processes fold 200,000 numbers into one SharedStruct; nothing is lost", async () => {
  const { stdout } = await run(process.execPath, [main], { timeout: 60_000 });
  // sum of i² for i < 400000 = (n-1)n(2n-1)/6
  const n = 200_000;
  const sum = ((n - 1) * n * (2 * n - 1)) / 6;
  expect(stdout).toBe(`count 200000, min 0, max ${(n - 1) ** 2}, sum ${sum}\n`);
});

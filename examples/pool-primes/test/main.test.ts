import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it("the pool counts the same primes as one thread, and reports the speed-up", async () => {
  const { stdout } = await run(process.execPath, [main, "300000"], { timeout: 60_000 });
  const [first, second] = stdout.trim().split("\n");
  expect(first).toBe("primes below 300000: 25997 (one thread: 25997)");
  // the speed-up itself depends on the machine's load; bench/ measures performance
  expect(second).toMatch(/^one thread: \d+ ms; pool of \d+ on \d+ CPUs: \d+ ms; speed-up \d+\.\d\dx$/);
});

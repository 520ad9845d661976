import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it.each(["process", "thread"])("10 %s children each print one whole line under the lock", async (context) => {
  const { stdout } = await run(process.execPath, [main, context], { timeout: 60_000 });
  const lines = stdout.trim().split("\n").sort();
  expect(lines).toEqual(Array.from({ length: 10 }, (_, i) => `hello world ${i}`).sort());
});

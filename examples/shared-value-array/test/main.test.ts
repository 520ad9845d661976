import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it.each(["process", "thread"])("%s: children write into a SharedArray and a Value; the parent reads what they wrote", async (context) => {
  const { stdout } = await run(process.execPath, [main, context], { timeout: 60_000 });
  expect(stdout).toBe("0 1 2 3 4\n3.1415927\n0 -1 -2 -3 -4 -5 -6 -7 -8 -9\n");
});

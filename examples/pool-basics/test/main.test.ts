import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it.each(["thread", "process"])("%s: map gives [1, 4, 9]; get with a short timeout throws while the task runs on", async (context) => {
  const { stdout } = await run(process.execPath, [main, context], { timeout: 60_000 });
  expect(stdout.trim().split("\n")).toEqual(["[ 1, 4, 9 ]", "100", "TimeoutError: the task is still running", "slept 300 ms"]);
});

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it.each(["process", "thread"])("%s: both ends of a duplex pipe talk", async (context) => {
  const { stdout } = await run(process.execPath, [main, context], { timeout: 60_000 });
  expect(stdout.trim().split("\n")).toEqual(["[ 42, null, 'hello' ]", "pipe? 4 letters", "duplex? 6 letters", "child exited with 0"]);
});

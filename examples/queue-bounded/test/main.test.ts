import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it.each(["process", "thread"])("%s: five results through a queue of at most 2", async (context) => {
  const { stdout } = await run(process.execPath, [main, context], { timeout: 60_000 });
  const lines = stdout.trim().split("\n");
  expect(lines.slice(0, 5).every((l) => /^queue size now [012] \(max 2\)$/.test(l))).toBe(true);
  expect(lines[5]).toBe("squares: 1 4 9 16 25");
});

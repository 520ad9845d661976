import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it.each(["process", "thread"])("10 %s children print 10 one-element lists; the parent's list stays empty", async (context) => {
  const { stdout } = await run(process.execPath, [main, context], { timeout: 60_000 });
  const lines = stdout.trim().split("\n");
  expect(lines.slice(0, 10).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `[${i}]`).sort());
  expect(lines[10]).toBe("parent list: []");
});

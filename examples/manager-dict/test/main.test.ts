import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it.each(["process", "thread"])("%s: five children fill a manager dict; keys keep their type", async (context) => {
  const { stdout } = await run(process.execPath, [main, context], { timeout: 60_000 });
  expect(stdout).toBe('100 101 102 103 104\n[[1,"1"],["2",2],[0.25,null]]\n[9,8,7,6,5,4,3,2,1,0]\n');
});

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it.each(["process", "thread"])("%s: every dish is eaten once, then join returns and the program ends", async (context) => {
  const { stdout } = await run(process.execPath, [main, context], { timeout: 60_000 });
  const lines = stdout.trim().split("\n");
  expect(lines.at(-1)).toBe("all dishes eaten");
  const dishes = lines.slice(0, -1).map((l) => l.replace(/^(Ann|Bob) eats /, "")).sort();
  expect(dishes).toEqual(["bread by Cleo", "pie by Dan", "salad by Dan", "soup by Cleo", "tea by Dan"]);
});

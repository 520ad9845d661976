import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it("a sender and a receiver in two programs talk over an authenticated TCP connection", async () => {
  const { stdout } = await run(process.execPath, [main], { timeout: 60_000 });
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^sender: {3}listening on port \d+$/);
  expect(lines.slice(1).sort()).toEqual(
    [
      "sender:   connection accepted",
      "receiver: [ 2.25, null, 'junk', 1729n ]",
      "receiver: hello",
      "receiver: 8",
      "receiver: Int32Array(5) [ 42, 1729, 0, 0, 0 ]",
    ].sort(),
  );
});

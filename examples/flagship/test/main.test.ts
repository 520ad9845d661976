import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it("threads and a process cooperate through a Lock, a Barrier and an Event", async () => {
  const { stdout } = await run(process.execPath, [main], { timeout: 60_000 });
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^@ipc flagship: \d worker threads × 4 rounds/);
  const rounds = lines.filter((l) => l.startsWith("  round "));
  expect(rounds.map((l) => l.match(/round (\d)/)![1])).toEqual(["1", "2", "3", "4"]);
  expect(lines.some((l) => /^Announcer \(pid \d+, a separate process\) saw \d threads finish$/.test(l))).toBe(true);
  const pi = Number(lines.find((l) => l.startsWith("π ≈"))!.split(" ")[2]);
  expect(Math.abs(pi - Math.PI)).toBeLessThan(0.01);
  expect(lines.at(-1)).toMatch(/^exit codes: threads (0,)+0; process 0$/);
});

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { startRedis } from "@ipc/test-utils/redis-server";

const run = promisify(execFile);
const main = new URL("../main.mjs", import.meta.url).pathname;

it("indexes a corpus four ways that agree, with live statistics, a writer thread and a closing table", async () => {
  const { stdout } = await run(process.execPath, [main, "--mb", "8"], { timeout: 120_000 });
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^@ipc flagship: counting the words of a 8 MiB corpus \(.*\) on \d+ CPUs$/);
  // the progress bar, read from the SharedStruct the workers update: complete at the end
  expect(lines.find((l) => l.startsWith("  ["))).toMatch(/^ {2}\[#{30}\] 100% .* \d+\/\d+ slices$/);
  expect(lines).toContain(lines.find((l) => /^every run found the same counts: yes; the writer thread wrote one line per slice/.test(l)));
  const table = lines.filter((l) => /^\| (@ipc|one thread|piscina|postMessage)/.test(l)).map((l) => l.split(" | ")[0]);
  expect(table).toEqual(["| one thread", expect.stringMatching(/^\| @ipc Pool \(\d+ threads\), imapUnordered$/), expect.stringMatching(/^\| piscina \(\d+ threads\)$/), expect.stringMatching(/^\| postMessage workers \(\d+ threads\)$/)]);
});

it("with --redis, a fifth run on @ipc/redis's Pool agrees with the others", async () => {
  const redis = await startRedis();
  try {
    const { stdout } = await run(process.execPath, [main, "--mb", "4", "--redis", redis.url], { timeout: 120_000 });
    expect(stdout).toContain("every run found the same counts: yes");
    expect(stdout).toMatch(/^\| @ipc\/redis Pool \(\d+ processes\), imapUnordered \| /m);
  } finally {
    await redis.dispose();
  }
});

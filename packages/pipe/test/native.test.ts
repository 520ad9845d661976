import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { nativeAvailable } from "@ipc/core";

// A pipe made where @ipc/native is loaded lives in memory other processes map (channel.ts).
describe.runIf(nativeAvailable())("pipes in native shared memory", () => {
  it("100 pipes whose ends went to a child process and were closed are released: descriptors closed, memory unmapped", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/release.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", fixture], { timeout: 60_000 });
    const r = JSON.parse(stdout) as { sum: number; eof: number; exitCode: number; before: { fds: number; mib: number }; held: { fds: number; mib: number }; after: { fds: number; mib: number } };
    expect([r.sum, r.eof, r.exitCode]).toEqual([4950, 100, 0]);
    expect(r.held.fds).toBeGreaterThanOrEqual(100);
    expect(r.held.mib).toBeGreaterThanOrEqual(200);
    expect(r.after.fds).toBeLessThanOrEqual(r.before.fds + 2);
    expect(r.after.mib).toBeLessThanOrEqual(r.before.mib + 4);
  }, 90_000);

  it("a pipe closed at both ends gives its descriptor back at once: a loop of 1,000 pipes under a limit of 128 stays in shared memory, no warning", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/closed-pipes-fds.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)("bash", ["-c", `ulimit -n 128 && exec "${process.execPath}" "${fixture}"`], { timeout: 60_000 });
    const r = JSON.parse(stdout) as { maxHeld: number; afterLoop: number; closedRefused: string; answer: number; exitCode: number; warnings: string[] };
    expect(r.maxHeld).toBeLessThanOrEqual(1);
    expect(r.afterLoop).toBe(0);
    expect(r.closedRefused).toBe("SerializationError");
    expect([r.answer, r.exitCode]).toEqual([42, 0]);
    expect(r.warnings).toEqual([]);
  });

  it("at half the descriptor limit: new pipes fall back to a SharedArrayBuffer (one warning), keep working, and the program can still open files", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/out-of-fds.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)("bash", ["-c", `ulimit -n 128 && exec "${process.execPath}" "${fixture}"`], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ someNative: true, allNative: false, ownFile: true, answer: 42, warnings: ["IpcWarning"] });
  });
});

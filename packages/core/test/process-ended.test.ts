// Whether a process has ended decides whether a lock it names is taken over and whether a ring
// drops the item it was writing: a live process must never be judged ended, whatever else fails.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { processEnded } from "@ipc/core/internal";

const fixture = fileURLToPath(new URL("./fixtures/process-ended-no-fds.mjs", import.meta.url));

/** The pid of a process that has exited and been reaped. */
function gonePid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe.runIf(process.platform === "linux")("processEnded (memory/native-memory.ts)", () => {
  it("a live process is alive, a reaped one has ended", () => {
    expect(processEnded(process.pid)).toBe(false);
    expect(processEnded(process.ppid)).toBe(false);
    expect(processEnded(gonePid())).toBe(true);
  });

  it("a process out of descriptors still sees a live process as alive (it cannot read /proc), and a gone one as ended", () => {
    const gone = gonePid();
    // the shell lowers the limit for the fixture alone; the fixture uses every descriptor left
    const out = execFileSync("/bin/sh", ["-c", `ulimit -n 64 && exec "$0" "$@"`, process.execPath, fixture, String(process.pid), String(gone)], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(JSON.parse(out)).toEqual({ full: true, live: false, gone: true, liveWithFds: false, goneWithFds: true });
  });
});

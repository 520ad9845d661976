/**
 * The segment tracker: what Python's resource tracker does for `shared_memory`. Named shared
 * memory outlives the processes that made it; a segment the library created and nobody unlinked is
 * removed once the whole process tree that created it is gone, however it ended (SIGKILL too), with
 * a warning on stderr as Python gives.
 *
 * How: the first segment created in a tree starts a small tracker process (its own session, deaf
 * to SIGINT/SIGTERM/SIGHUP) and keeps the write end of its stdin (a Unix stream socket, as Node
 * makes a child's stdio). Every `create` writes `R name`, every `unlink` writes `U name` (one
 * `write` of at most 260 bytes each, which the kernel queues whole, so lines from several
 * processes never interleave). Process children started afterwards inherit the write end
 * (fd 4, see {@link trackerStdio}); threads find it through the environment. The tracker reads
 * until every write end is closed, which happens only when every process of the tree has ended,
 * then unlinks the names still registered.
 *
 * The inherited descriptor is named in `IPC_SHM_TRACKER` as `fd:inode`: a process uses it only if
 * that fd is still the same socket (an unrelated program that copied the environment is not fooled
 * into writing to whatever its fd 4 is).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fstatSync, writeSync } from "node:fs";

const ENV = "IPC_SHM_TRACKER";
/** The fd a process child receives the tracker pipe on (after stdin, stdout, stderr and the IPC channel). */
const CHILD_FD = 4;

// Runs in the tracker process (CommonJS, `node -e`): no @ipc code, nothing but fs.
const TRACKER = `
"use strict";
const fs = require("node:fs");
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, () => {});
const names = new Set();
let rest = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  const lines = (rest + d).split("\\n");
  rest = lines.pop();
  for (const l of lines) {
    const n = l.slice(2);
    if (n.length === 0 || n.length > 255 || n.includes("/") || n === "." || n === "..") continue;
    if (l.startsWith("R ")) names.add(n);
    else if (l.startsWith("U ")) names.delete(n);
  }
});
process.stdin.on("end", () => {
  const gone = [];
  for (const n of names) {
    try { fs.unlinkSync("/dev/shm/" + n); gone.push(n); } catch {}
  }
  if (gone.length > 0) {
    process.stderr.write("@ipc: there appear to be " + gone.length + " leaked SharedMemory segment(s) to clean up at shutdown: " + gone.join(", ") + "\\n");
  }
});
`;

let fd: number | undefined;
/** The tracker started by this thread: referenced, so that its stdin socket is never collected and closed. */
const started: ChildProcess[] = [];

function inherited(): number | undefined {
  const m = /^(\d+):(\d+)$/.exec(process.env[ENV] ?? "");
  if (!m) return undefined;
  try {
    const st = fstatSync(Number(m[1]));
    return (st.isFIFO() || st.isSocket()) && String(st.ino) === m[2] ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function start(): number | undefined {
  try {
    const child = spawn(process.execPath, ["-e", TRACKER], {
      detached: true,
      stdio: ["pipe", "ignore", "inherit"],
      env: { PATH: process.env.PATH ?? "" },
    });
    child.on("error", () => {});
    child.unref();
    const stdin = child.stdin as (NodeJS.WritableStream & { _handle?: { fd?: number }; unref?(): void }) | null;
    const pipeFd = stdin?._handle?.fd;
    if (!stdin || typeof pipeFd !== "number" || pipeFd < 0) return undefined;
    stdin.unref?.();
    started.push(child);
    process.env[ENV] = `${pipeFd}:${fstatSync(pipeFd).ino}`;
    return pipeFd;
  } catch {
    return undefined;
  }
}

function send(line: string): void {
  fd ??= inherited() ?? start();
  if (fd === undefined) return;
  const bytes = Buffer.from(line);
  // the pipe may be non-blocking: a full pipe (the tracker is slow) is retried, not dropped
  for (let tries = 0; tries < 1000; tries++) {
    try {
      writeSync(fd, bytes);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return;
    }
  }
}

/** Registers a segment this process created: it is unlinked when the tree is gone, unless unlinked before. */
export function trackSegment(name: string): void {
  send(`R ${name}\n`);
}

/** A registered segment was unlinked: the tracker forgets it. */
export function untrackSegment(name: string): void {
  if (fd === undefined && inherited() === undefined) return; // nothing was ever registered through this process
  send(`U ${name}\n`);
}

/**
 * What a process child's `stdio` adds so that it shares this tree's tracker (fd 4), or nothing
 * when no tracker runs yet.
 */
export function trackerStdio(): number[] {
  const f = fd ?? inherited();
  return f === undefined ? [] : [f];
}

/** The environment entry that tells a process child where its inherited tracker pipe is. */
export function trackerEnv(): Record<string, string> {
  const f = fd ?? inherited();
  if (f === undefined) return {};
  return { [ENV]: `${CHILD_FD}:${fstatSync(f).ino}` };
}

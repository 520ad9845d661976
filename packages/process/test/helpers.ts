import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { Process } from "@ipc/process";

export const targets = new URL("./fixtures/targets.mjs", import.meta.url).href;
export const contexts = ["thread", "process"] as const;

const dir = mkdtempSync(join(tmpdir(), "ipc-process-test-"));
let n = 0;
/** A fresh file path for a child to report into. */
export function reportFile(): string {
  return join(dir, `report-${n++}.json`);
}
export function readReport<T = any>(file: string): T {
  expect(existsSync(file)).toBe(true);
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Joins with a bound and asserts the child ended; returns its exit code. */
export async function ended(p: Process, timeout = 20_000): Promise<number | null> {
  await p.join({ timeout });
  expect(p.isAlive()).toBe(false);
  return p.exitCode;
}

/** Whether process `pid` has ended (gone, or a zombie nobody reaped yet). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = stat.charAt(stat.lastIndexOf(")") + 2);
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

/** Resolves once every process in `pids` has ended, or after `timeout` ms with those still alive. */
export async function processesEnd(pids: number[], timeout: number): Promise<number[]> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const alive = pids.filter((pid) => !processGone(pid));
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 20));
  }
}

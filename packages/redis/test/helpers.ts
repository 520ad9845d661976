/** Shared by the @ipc/redis tests: the run's Redis URL, unique names, and child programs. */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterEach, inject } from "vitest";

/** The URL of the redis-server this test run started (test/global-setup.ts). */
export const url = (): string => inject("redisUrl");

/** A name no other test uses. */
export const fresh = (what = "t"): string => `${what}-${randomBytes(6).toString("hex")}`;

/** The fixture program that runs one role against Redis in its own process. */
export const fixture = new URL("./fixtures/role.mjs", import.meta.url);

/** A child process running `role` of test/fixtures/role.mjs; lines it prints are collected. */
export interface Child {
  readonly proc: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first printed line matching `re` (bounded by `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<string>;
  /** Resolves once `done()` is true, asked again at each line this child prints (bounded by `ms`). */
  waitUntil(done: () => boolean, ms?: number): Promise<void>;
  /** Resolves with the exit code (bounded by `ms`). */
  exited(ms?: number): Promise<number | null>;
}

/** Starts `role` in a new Node process with `args` (JSON-encoded as argv). */
export function startChild(role: string, args: Record<string, unknown>): Child {
  const proc = fork(fixture, [role, JSON.stringify(args)], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let buf = "";
  proc.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const f of [...listeners]) f();
  });
  const exit = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const bounded = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${role}: ${what} not within ${ms} ms; printed ${JSON.stringify(lines)}`)), ms);
      p.then((v) => (clearTimeout(t), resolve(v)), (e: unknown) => (clearTimeout(t), reject(e)));
    });
  return {
    proc,
    lines,
    waitFor(re, ms = 15_000) {
      return bounded(
        new Promise<string>((resolve) => {
          const check = (): void => {
            const hit = lines.find((l) => re.test(l));
            if (hit !== undefined) {
              listeners.delete(check);
              resolve(hit);
            }
          };
          listeners.add(check);
          check();
        }),
        ms,
        `a line matching ${re}`,
      );
    },
    waitUntil(done, ms = 15_000) {
      return bounded(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (done()) {
              listeners.delete(check);
              resolve();
            }
          };
          listeners.add(check);
          check();
        }),
        ms,
        "the condition",
      );
    },
    exited(ms = 20_000) {
      return bounded(exit, ms, "exit");
    },
  };
}

/** The error `p` rejects with (fails the test when it resolves). */
export async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection, got a value");
}

/** Registers an afterEach that closes every object passed to the returned `track` during the test. */
export function closeAfterEach(): <T extends { close(): Promise<void> }>(x: T) => T {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((x) => x.close()));
  });
  return (x) => {
    open.push(x);
    return x;
  };
}

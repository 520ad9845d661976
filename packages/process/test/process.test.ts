import { execFile, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ClosedError, Event, InvalidStateError, Lock } from "@ipc/core";
import { activeChildren, cpuCount, currentProcess, isMainProcess, parentProcess, Process } from "@ipc/process";
import { contexts, ended, processesEnd, processGone, readReport, reportFile, targets } from "./helpers.js";
// @ts-expect-error untyped fixture
import { whoami, Worker } from "./fixtures/targets.mjs";

const run = promisify(execFile);

describe("handles whose module the target never imports (from the build)", () => {
  it("are revived in both contexts, even from a module with top-level await", async () => {
    // the child imports the handle's module before it deserializes its arguments: require() cannot
    // load this module, and in Node 20 a thread terminated inside require() of an ES module aborts
    // its whole process
    const script = new URL("./fixtures/handle-revival.mjs", import.meta.url);
    const { stdout } = await run(process.execPath, [script.pathname, mkdtempSync(join(tmpdir(), "ipc-revival-"))], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ thread: { exitCode: 0, said: "THREAD!" }, process: { exitCode: 0, said: "PROCESS!" } });
  });
});

describe("the main process", () => {
  it("currentProcess, parentProcess, isMainProcess, cpuCount (PROC-01, 05, 13)", () => {
    const me = currentProcess();
    expect(me.name).toBe("MainProcess");
    expect(me.daemon).toBe(false);
    expect(me.pid).toBe(process.pid);
    expect(me.ident).toBe(String(process.pid));
    expect(parentProcess()).toBeNull();
    expect(isMainProcess).toBe(true);
    expect(Number.isInteger(cpuCount()) && cpuCount() >= 1).toBe(true);
  });

  it("validates options", () => {
    expect(() => new Process({ target: "x" })).toThrow(/module/);
    expect(() => new Process({ context: "fiber" as never })).toThrow(TypeError);
    expect(() => new Process({ module: targets, target: 5 as never })).toThrow(TypeError);
    expect(() => new Process({ module: targets, target: "x", args: "a" as never })).toThrow(TypeError);
    expect(() => new Process({ module: targets, target: "x", args: [() => 1] }).start()).toThrow(/process\.args\[0\]: function/);
  });
});

describe.each(contexts)("Process in the %s context", (context) => {
  it("runs a target with args and kwargs; the child knows itself and its parent (PROC-03, 05, 07)", async () => {
    const file = reportFile();
    const p = new Process({ module: targets, target: "whoami", args: [file, 1, [2, { x: "y" }]], kwargs: { hello: 23, bye: 2.54 }, name: "SomeProcess", context });
    expect(p.isAlive()).toBe(false);
    expect(p.exitCode).toBeNull();
    expect(activeChildren()).not.toContain(p);
    p.start();
    expect(p.isAlive()).toBe(true);
    expect(activeChildren()).toContain(p);
    expect(await ended(p)).toBe(0);
    expect(activeChildren()).not.toContain(p);
    const r = readReport(file);
    expect(r.args).toEqual([1, [2, { x: "y" }]]);
    expect(r.kw).toEqual({ hello: 23, bye: 2.54 });
    expect(r.me.name).toBe("SomeProcess");
    expect(r.me.pid).toBe(p.pid);
    expect(r.me.ident).toBe(p.ident);
    expect(r.me.daemon).toBe(false);
    expect(r.parent).toEqual({ name: "MainProcess", ident: String(process.pid), pid: process.pid });
    if (context === "process") expect(p.pid).not.toBe(process.pid);
    else expect(p.ident).toMatch(new RegExp(`^${process.pid}\\.t\\d+$`));
  });

  it("takes an exported function as target and names children Process-N", async () => {
    const file = reportFile();
    const p = new Process({ module: targets, target: whoami, args: [file], context });
    expect(p.name).toMatch(/^Process-\d+$/);
    p.start();
    expect(await ended(p)).toBe(0);
    expect(readReport(file).me.name).toBe(p.name);
  });

  it("a child without a target exits 0", async () => {
    const p = new Process({ context });
    p.start();
    expect(await ended(p)).toBe(0);
  });

  it("async targets end when their promise settles; a rejection gives exit code 1", async () => {
    const file = reportFile();
    const p = new Process({ module: targets, target: "asyncTarget", args: [file], context });
    p.start();
    expect(await ended(p)).toBe(0);
    expect(readReport(file)).toBe("async done");
    const q = new Process({ module: targets, target: "rejects", context });
    q.start();
    expect(await ended(q)).toBe(1);
  });

  it("exit codes: uncaught error 1, process.exit(n) n, missing export 1", async () => {
    const a = new Process({ module: targets, target: "boom", context });
    const b = new Process({ module: targets, target: "exits", args: [7], context });
    const c = new Process({ module: targets, target: "noSuchExport", context });
    for (const p of [a, b, c]) p.start();
    expect(await ended(a)).toBe(1);
    expect(await ended(b)).toBe(7);
    expect(await ended(c)).toBe(1);
  });

  it("terminate gives -15 and kill -9; join after that returns (PROC-08, 11, 12)", async () => {
    for (const [method, code] of [["terminate", -15], ["kill", -9]] as const) {
      const started = new Event();
      const p = new Process({ module: targets, target: "forever", args: [started], context, daemon: true });
      p.start();
      expect(await started.wait({ timeout: 20_000 })).toBe(true);
      expect(p.isAlive()).toBe(true);
      expect(p.exitCode).toBeNull();
      const t = performance.now();
      await p.join({ timeout: 0 });
      await p.join({ timeout: -1 });
      await p.join({ timeout: 50 });
      expect(performance.now() - t).toBeGreaterThanOrEqual(45);
      expect(p.isAlive()).toBe(true);
      p[method]();
      expect(await ended(p)).toBe(code);
      await p.join();
      expect(activeChildren()).not.toContain(p);
    }
  });

  it("terminate right after start still works (PROC-18)", async () => {
    const started = new Event();
    const ps = Array.from({ length: 3 }, () => new Process({ module: targets, target: "forever", args: [started], context }));
    for (const p of ps) p.start();
    for (const p of ps) p.terminate();
    for (const p of ps) expect(await ended(p)).toBe(-15);
  });

  it("lifecycle errors: start twice, join before start, close while alive, use after close (PROC-17)", async () => {
    const p = new Process({ module: targets, target: "nothing", context });
    await expect(p.join()).rejects.toThrow(InvalidStateError);
    const started = new Event();
    const q = new Process({ module: targets, target: "forever", args: [started], context });
    q.start();
    expect(() => q.start()).toThrow(/twice/);
    expect(() => q.close()).toThrow(InvalidStateError);
    expect(() => {
      q.daemon = true;
    }).toThrow(InvalidStateError);
    q.kill();
    await ended(q);
    q.close();
    q.close();
    // use after close(): ClosedError (API.md); calls in the wrong order stay InvalidStateError
    expect(() => q.isAlive()).toThrow(ClosedError);
    await expect(q.join()).rejects.toThrow(ClosedError);
    expect(() => q.terminate()).toThrow(ClosedError);
    expect(() => q.start()).toThrow(ClosedError);
  });

  it("join({ signal }) stops the wait with the signal's reason; the child runs on", async () => {
    const started = new Event();
    const p = new Process({ module: targets, target: "forever", args: [started], context });
    p.start();
    expect(await started.wait({ timeout: 20_000 })).toBe(true);
    const stop = new AbortController();
    const joining = p.join({ signal: stop.signal });
    stop.abort(new RangeError("enough"));
    await expect(joining).rejects.toThrow("enough");
    await expect(p.join({ signal: AbortSignal.abort(new RangeError("at once")) })).rejects.toThrow("at once");
    await expect(p.join({ signal: {} as never })).rejects.toThrow(TypeError);
    expect(p.isAlive()).toBe(true);
    p.kill();
    await p.join({ timeout: 20_000, signal: new AbortController().signal });
    expect(p.exitCode).toBe(-9);
    // an ended child's join returns at once, whatever the signal
    await p.join({ signal: AbortSignal.abort() });
  });

  it("daemon: default false, option and setter (PROC-04)", () => {
    expect(new Process({ context }).daemon).toBe(false);
    expect(new Process({ context, daemon: true }).daemon).toBe(true);
    const p = new Process({ context });
    p.daemon = true;
    expect(p.daemon).toBe(true);
    expect(String(p)).toMatch(/<Process name='Process-\d+' initial daemon>/);
  });

  it("the subclass form runs run() with its fields and handles revived (PROC-22)", async () => {
    const file = reportFile();
    const sub = new Worker(file, new Lock(), "hello", context) as Process;
    expect(sub.name).toBe("Subclassed");
    sub.start();
    expect(await ended(sub)).toBe(0);
    const r = readReport(file);
    expect(r.word).toBe("HELLO");
    expect(r.name).toBe("Subclassed");
    expect(r.me).toBe("Subclassed");
  });

  it.each(contexts)("a child waits for its non-daemon children and ends its daemon ones (grandchildren: %s)", async (inner) => {
    const file = reportFile();
    const started = new Event();
    const p = new Process({ module: targets, target: "leaveChildren", args: [file, inner, started], context });
    p.start();
    expect(await ended(p)).toBe(0);
    // the child returned at once, but ended only after its non-daemon child wrote the file
    expect(readReport(file)).toBe("written");
  });

  it("a child's children are named Process-N:M and a dead parent takes them along (no orphans)", async () => {
    const file = reportFile();
    const started = new Event();
    const p = new Process({ module: targets, target: "spawnGrandchild", args: [file, "process", started], context });
    p.start();
    expect(await started.wait({ timeout: 20_000 })).toBe(true);
    const g = readReport<{ name: string; pid: number }>(file);
    expect(g.name).toMatch(/^Process-\d+:1$/);
    p.kill();
    await ended(p);
    if (context === "process") {
      // the grandchild notices its parent's death and exits
      const deadline = Date.now() + 20_000;
      let alive = true;
      while (alive && Date.now() < deadline) {
        try {
          process.kill(g.pid, 0);
          await new Promise((r) => setTimeout(r, 20));
        } catch {
          alive = false;
        }
      }
      expect(alive).toBe(false);
    }
  });
});

describe("no orphans", () => {
  const parent = new URL("./fixtures/orphan-parent.mjs", import.meta.url).pathname;
  for (const native of ["1", "0"]) {
    it(`a parent killed with SIGKILL takes its idle, busy and sync-blocked process children along (IPC_NATIVE=${native})`, async () => {
      const p = spawn(process.execPath, [parent, "main"], { env: { ...process.env, IPC_NATIVE: native }, stdio: ["ignore", "pipe", "inherit"] });
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: p.stdout! }).once("line", resolve);
        p.once("exit", (code) => reject(new Error(`the parent exited (${code})`)));
      });
      const pids = JSON.parse(line) as number[];
      expect(pids).toHaveLength(3);
      expect(pids.every((pid) => !processGone(pid))).toBe(true);
      p.kill("SIGKILL");
      const alive = await processesEnd(pids, 5_000);
      for (const pid of alive) process.kill(pid, "SIGKILL");
      expect(alive).toEqual([]);
    });
  }
});

describe("a parent that is a script given with `node --input-type=module -e`", () => {
  it("starts children in both contexts (its script flags are not passed on)", async () => {
    const script = `import { Process } from "@ipc/process";
      for (const context of ["thread", "process"]) {
        const p = new Process({ module: ${JSON.stringify(targets)}, target: "nothing", context });
        p.start(); await p.join({ timeout: 20000 }); console.log(context, p.exitCode);
      }`;
    for (const native of ["1", "0"]) {
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, IPC_NATIVE: native }, timeout: 60_000 });
      expect(stdout).toBe("thread 0\nprocess 0\n");
    }
  });

  it("with V8 flags too (--expose-gc, --max-old-space-size): workers, the broker and child processes start", async () => {
    // a worker refuses such flags when they are given explicitly: they are its process's anyway
    const script = `import { Process } from "@ipc/process"; import { Lock } from "@ipc/core";
      const q = new Lock();
      for (const context of ["thread", "process"]) {
        const p = new Process({ module: ${JSON.stringify(targets)}, target: "nothing", args: [q], context });
        p.start(); await p.join({ timeout: 20000 }); console.log(context, p.exitCode, typeof globalThis.gc);
      }`;
    for (const native of ["1", "0"]) {
      for (const flags of [["--input-type=module", "-e", script], ["--input-type=module"]]) {
        const argv = ["--expose-gc", "--max-old-space-size=512", ...flags];
        const child = run(process.execPath, argv, { env: { ...process.env, IPC_NATIVE: native }, timeout: 60_000 });
        if (flags.length === 1) {
          // the script on stdin: nothing to strip, the flags are inherited as they are
          child.child.stdin!.end(script);
        }
        const { stdout } = await child;
        expect(stdout).toBe("thread 0 function\nprocess 0 function\n");
      }
    }
  });
});

describe.each(contexts)("resourceLimits in the %s context", (context) => {
  it("a child that outgrows maxOldGenerationSizeMb ends with an error instead of growing on", async () => {
    const p = new Process({ module: targets, target: "grow", context, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } });
    p.start();
    const code = await ended(p, 30_000);
    expect(code).not.toBe(0);
    expect(code).not.toBe(null);
  });
});

describe("process lifetime at exit", () => {
  const script = new URL("./fixtures/exit-order.mjs", import.meta.url);
  it.each(contexts)("%s: an uncaught error prints 'Process <name>:' and the stack to stderr", async (context) => {
    const { stderr } = await run(process.execPath, [script.pathname.replace("exit-order", "print-error"), context], { timeout: 30_000 });
    expect(stderr).toMatch(/Process Process-1:\nError: boom here\n\s+at boom/);
  });

  it.each(contexts)("%s: non-daemon children keep the parent alive; daemon children end with it", async (context) => {
    const { stdout } = await run(process.execPath, [script.pathname, context], { timeout: 30_000 });
    const lines = stdout.trim().split("\n");
    expect(lines).toContain("child done");
    expect(lines.indexOf("child done")).toBeLessThan(lines.indexOf("parent exit"));
    const daemonPid = Number(lines.find((l) => l.startsWith("daemon pid "))!.slice(11));
    if (context === "process") {
      const deadline = Date.now() + 20_000;
      let alive = true;
      while (alive && Date.now() < deadline) {
        try {
          process.kill(daemonPid, 0);
          await new Promise((r) => setTimeout(r, 20));
        } catch {
          alive = false;
        }
      }
      expect(alive).toBe(false);
    }
  });
});

describe("a process without @ipc/native", () => {
  const script = new URL("./fixtures/no-shared-memory.mjs", import.meta.url).pathname;
  const noticeOf = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("@ipc: "));

  it("says once on stderr why objects reach a child through the broker, and how to fix or silence it", async () => {
    const { stdout, stderr } = await run(process.execPath, ["--no-addons", script], { timeout: 60_000, env: { ...process.env, IPC_NATIVE: "", IPC_QUIET: "" } });
    expect(stdout).toBe("set: true\n");
    const notice = noticeOf(stderr);
    expect(notice).toHaveLength(1); // two objects, one notice
    expect(notice[0]).toMatch(/^@ipc: a (Event|Lock) is handed to a child process without shared memory, because @ipc\/native is not loaded \(.*addons.*disabled.*\)/);
    expect(notice[0]).toContain("IPC_QUIET=1");
  }, 60_000);

  it.each([
    ["IPC_QUIET=1", { IPC_QUIET: "1" }],
    ["IPC_NATIVE=0", { IPC_NATIVE: "0" }],
  ])("is silent with %s", async (_, env) => {
    const { stdout, stderr } = await run(process.execPath, ["--no-addons", script], { timeout: 60_000, env: { ...process.env, IPC_NATIVE: "", IPC_QUIET: "", ...env } });
    expect(stdout).toBe("set: true\n");
    expect(noticeOf(stderr)).toEqual([]);
  }, 60_000);
});

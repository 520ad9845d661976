import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Redis } from "ioredis";
import { timed } from "@ipc/test-utils/timed";
import { AsyncResult, ClosedError, InvalidStateError, IpcError, Pool, SerializationError, TimeoutError, WorkerLostError } from "@ipc/redis";
import { fresh, url, failure } from "./helpers.js";

const tasks = new URL("./fixtures/tasks.mjs", import.meta.url);
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const pools: Pool[] = [];
function pool(opts: Partial<ConstructorParameters<typeof Pool>[0]> = {}): Pool {
  const p = new Pool({ connection: url(), name: fresh("pool"), module: tasks, processes: 2, leaseMs: 600, ...opts });
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.terminate()));
});

/** Starts `ipc-redis-worker` as a user would; resolves once `n` workers said they are ready. */
function startCli(args: string[], n: number) {
  const proc = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`workers not ready in 15 s: ${out} ${err}`)), 15_000);
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if ((out.match(/ready for pool/g) ?? []).length >= n) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, ready, exited, stderr: () => err };
}

/** The pid a task announced on `list` (bounded wait). */
async function announced(list: string): Promise<number> {
  const r = new Redis(url());
  try {
    const got = await r.blpop(list, 15);
    if (!got) throw new Error("no task announced itself within 15 s");
    return Number(got[1]);
  } finally {
    r.disconnect();
  }
}

describe("Pool on Redis", () => {
  it("map, starmap, apply, applyAsync, imap and imapUnordered on two worker processes", async () => {
    const p = pool();
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const progress: number[] = [];
    expect(await p.map("square", xs, { onProgress: (d) => progress.push(d) })).toEqual(xs.map((x) => x * x));
    expect(progress.at(-1)).toBe(1000);
    expect(await p.map("square", xs, { chunkSize: 7 })).toEqual(xs.map((x) => x * x));
    expect(await p.map("square", [])).toEqual([]);
    expect(await p.starmap("add", [[1, 2], [3, 4]])).toEqual([3, 7]);
    expect(await p.apply("add", [40, 2])).toBe(42);
    let called: unknown;
    const r = p.applyAsync("square", [9], { callback: (v) => (called = v) });
    expect(r).toBeInstanceOf(AsyncResult);
    expect(await r.get({ timeout: 10_000 })).toBe(81);
    expect(r.ready() && r.successful()).toBe(true);
    expect(called).toBe(81);
    expect(await p.mapAsync("square", [2, 3]).get()).toEqual([4, 9]);
    expect(await p.starmapAsync("add", [[2, 3]]).get()).toEqual([5]);
    const ordered: unknown[] = [];
    for await (const v of p.imap("later", [30, 1, 20, 2].map((ms) => ms), { chunkSize: 1 })) ordered.push(v);
    expect(ordered).toEqual([30, 1, 20, 2].map((x) => x));
    const unordered: unknown[] = [];
    for await (const v of p.imapUnordered("square", (async function* () { for (let i = 0; i < 50; i++) yield i; })(), { chunkSize: 5 })) unordered.push(v);
    expect((unordered as number[]).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i * i));
    const pids = new Set(await p.map("pid", Array.from({ length: 40 }, () => 0), { chunkSize: 1 }));
    expect(pids.size).toBeGreaterThanOrEqual(1);
    expect((await p.metrics()).pending).toBe(0);
    // both children register, though on a loaded machine the second may do so after the first
    // did all the work, and a 600 ms lease may lapse for a moment (renewed at the next tick)
    await vi.waitFor(async () => expect((await p.metrics()).workers).toBe(2), { timeout: 15_000, interval: 50 });
    expect(p.processes).toBe(2);
  });

  it("a task's error arrives with its name, message and remote stack; the pool keeps going", async () => {
    const p = pool();
    const e = await failure(p.apply("fail", ["boom"]));
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("TaskFailedError");
    expect(e.message).toBe("boom");
    expect(e.stack).toContain("tasks.mjs");
    // the first chunk to fail rejects the map (either item here; Python's map behaves the same)
    await expect(p.map("fail", ["x", "y"])).rejects.toThrow(/^[xy]$/);
    await expect(p.apply("unsendable")).rejects.toBeInstanceOf(SerializationError);
    expect(await p.apply("square", [3])).toBe(9);
  });

  it("a job can only name the module's own exported functions", async () => {
    const p = pool();
    for (const fn of ["nope", "notAFunction", "constructor", "__proto__", "toString", "then"]) {
      const e = await failure(p.apply(fn));
      expect(e).toBeInstanceOf(IpcError);
      expect(e.message).toMatch(/no exported function/);
    }
    await expect(p.apply("" as never)).rejects.toThrow(TypeError);
  });

  it("the initializer runs in each worker before its first task", async () => {
    const p = pool({ initializer: "init", initArgs: ["yes"] });
    expect(await p.apply("whatInit")).toBe("yes");
  });

  it("workers started with ipc-redis-worker serve a pool that starts none; SIGTERM stops them cleanly", async () => {
    const name = fresh("pool");
    const w = startCli(["--url", url(), "--name", name, "--module", fileURLToPath(tasks), "--processes", "2"], 2);
    await w.ready;
    const p = pool({ name, processes: 0, module: undefined });
    expect(await p.map("square", [1, 2, 3])).toEqual([1, 4, 9]);
    expect((await p.metrics()).workers).toBe(2);
    w.proc.kill("SIGTERM");
    expect(await w.exited).toBe(0);
    const r = new Redis(url());
    try {
      expect(await r.scard(`ipc:{${name}}:workers`)).toBe(0);
    } finally {
      r.disconnect();
    }
  });

  it("ipc-redis-worker: bad arguments exit 2 with usage; an unreachable Redis exits 1 naming it", async () => {
    const bad = startCli(["--name", "x"], 1);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/--url, --name and --module are required/);
    const down = startCli(["--url", "redis://127.0.0.1:1", "--name", "x", "--module", fileURLToPath(tasks), "--processes", "1"], 1);
    expect(await down.exited).toBe(1);
    expect(down.stderr()).toMatch(/RedisConnectionError: Could not connect to Redis at redis:\/\/127\.0\.0\.1:1/);
  });

  it("a worker killed mid-task fails that task with WorkerLostError (maxRetries 0), and is replaced", async () => {
    const p = pool();
    const list = fresh("started");
    const job = p.apply("announceThenRun", [url(), list, 60_000]);
    const pid = await announced(list);
    process.kill(pid, "SIGKILL");
    await expect(timed(job, 0, 10_000)).rejects.toBeInstanceOf(WorkerLostError);
    expect(await p.apply("square", [5])).toBe(25);
  });

  it("with maxRetries 1 the task of a killed worker runs again on another worker", async () => {
    const p = pool({ maxRetries: 1 });
    const list = fresh("started");
    const job = p.apply("onceSlow", [url(), list, fresh("key")]);
    const pid = await announced(list);
    process.kill(pid, "SIGKILL");
    expect(await timed(job, 0, 10_000)).toBe("second run");
  });

  it("timeouts, signals, close, join and terminate", async () => {
    const p = pool();
    await expect(timed(() => p.apply("later", [1, 2000], { timeout: 100 }), 95, 1500)).rejects.toBeInstanceOf(TimeoutError);
    await expect(p.apply("square", [1], { signal: AbortSignal.abort(new Error("no")) })).rejects.toThrow("no");
    await expect(p.join()).rejects.toBeInstanceOf(InvalidStateError);
    const last = p.apply("later", ["last", 100]);
    p.close();
    await expect(p.apply("square", [1])).rejects.toBeInstanceOf(InvalidStateError);
    await p.join({ timeout: 10_000 });
    expect(await last).toBe("last");
    const q = pool();
    const out = expect(q.apply("later", [1, 5000])).rejects.toBeInstanceOf(ClosedError);
    await q.terminate();
    await out;
    expect(q.processes).toBe(0);
  });

  it("the workers a pool started stop when the program that started it is killed", async () => {
    const parent = spawn(process.execPath, [fileURLToPath(new URL("./fixtures/pool-parent.mjs", import.meta.url)), url(), fresh("pool")], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const pids = await new Promise<number[]>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no pids within 15 s: ${out}`)), 15_000);
      parent.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) {
          clearTimeout(t);
          resolve(JSON.parse(out) as number[]);
        }
      });
    });
    expect(pids.length).toBeGreaterThanOrEqual(1);
    parent.kill("SIGKILL");
    // the workers are not our children: no exit event reaches us, so look until they are gone (bounded)
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = performance.now() + 10_000;
    while (pids.some(alive) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(pids.filter(alive)).toEqual([]);
  });

  it("bad options are refused", () => {
    expect(() => new Pool({ connection: url(), name: "p", processes: 2 })).toThrow(/module/);
    expect(() => new Pool({ connection: url(), name: "p", maxRetries: -1 })).toThrow(RangeError);
    expect(() => new Pool({ connection: url(), name: "" })).toThrow(TypeError);
  });
});

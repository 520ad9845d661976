import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { Barrier, ClosedError, Event, InvalidStateError, IpcError, ProcessError, SerializationError, TimeoutError, WorkerLostError } from "@ipc/core";
import { cpuCount } from "@ipc/process";
import { Pool } from "@ipc/pool";
import * as tasks from "./fixtures/tasks.mjs";

const module = new URL("./fixtures/tasks.mjs", import.meta.url);
const contexts = ["thread", "process"] as const;
type Tasks = typeof tasks;

describe("defaults", () => {
  it("processes defaults to cpuCount(); bad options throw", async () => {
    const pool = new Pool({ module });
    expect(pool.processes).toBe(cpuCount());
    await pool.terminate();
    expect(() => new Pool({} as never)).toThrow(/module/);
    expect(() => new Pool({ module, processes: 0 })).toThrow(RangeError);
    // POOL-16, POOL-28, POOL-30
    expect(() => new Pool({ module, processes: -1 })).toThrow(RangeError);
    expect(() => new Pool({ module, maxTasksPerChild: 0 })).toThrow(RangeError);
    expect(() => new Pool({ module, maxTasksPerChild: -1 })).toThrow(RangeError);
    expect(() => new Pool({ module, maxTasksPerChild: 0.5 })).toThrow(TypeError);
    expect(() => new Pool({ module, maxTasksPerChild: "12" as never })).toThrow(TypeError);
    expect(() => new Pool({ module, initializer: 1 as never })).toThrow(TypeError);
    expect(() => new Pool({ module, initArgs: "x" as never })).toThrow(TypeError);
    expect(() => new Pool({ module, context: "fiber" as never })).toThrow(TypeError);
  });
});

describe.each(contexts)("Pool in the %s context", (context) => {
  it("large arguments and results (several MiB) pass intact, in order", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 2, context });
    const big = (n: number, k: number) => new Uint8Array(n).map((_, i) => (i * 7 + k) & 0xff);
    const inputs = [big(3 << 20, 1), big(300_000, 2), big(5, 3), big(1 << 20, 4), big(600_000, 5)];
    const same = (x: Uint8Array, y: Uint8Array) => x.byteLength === y.byteLength && Buffer.compare(Buffer.from(x), Buffer.from(y)) === 0;
    const back = await pool.starmap("slowEcho", inputs.map((x) => [x, 0] as [Uint8Array, number]), { chunkSize: 1 });
    expect(back.map((x, k) => same(x as Uint8Array, inputs[k]!))).toEqual(inputs.map(() => true));
    expect(same((await pool.apply("slowEcho", [inputs[0]!, 0])) as Uint8Array, inputs[0]!)).toBe(true);
  });

  it("async tasks run at once on every worker of a fresh pool: no worker takes tasks it cannot start while another is starting", async () => {
    // each task waits until all three are running: it passes only if three workers took one each
    await using pool = new Pool<Tasks>({ module, processes: 3, context });
    const barrier = new Barrier(3);
    const got = await pool.starmap("meetAt", [[barrier, "a"], [barrier, "b"], [barrier, "c"]], { chunkSize: 1 });
    expect(got).toEqual(["a", "b", "c"]);
  }, 60_000);

  it("concurrentTasksPerWorker: one worker runs several async tasks at once", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 1, context, concurrentTasksPerWorker: 3 });
    const barrier = new Barrier(3);
    expect(await pool.starmap("meetAt", [[barrier, "a"], [barrier, "b"], [barrier, "c"]], { chunkSize: 1 })).toEqual(["a", "b", "c"]);
    // more tasks than it runs at once: the rest wait their turn, in order
    const go = new Event();
    const results = ["p", "q", "r", "s"].map((tag) => pool.apply("waitEvent", [go, tag]));
    go.set();
    expect(await Promise.all(results)).toEqual(["p", "q", "r", "s"]);
    expect(() => new Pool<Tasks>({ module, concurrentTasksPerWorker: 0 })).toThrow(RangeError);
  }, 60_000);

  it("aborting a task sent ahead to a busy worker rejects it at once, and it never runs", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 1, context });
    await pool.apply("square", [2]); // the worker is up
    const release = new Event();
    const ran = new Event();
    const controller = new AbortController();
    // submitted in one tick: both go to the one worker, the second queued behind the first
    const first = pool.apply("waitEvent", [release, "first"]);
    const second = pool.apply("setEvent", [ran], { signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    controller.abort(new RangeError("changed my mind"));
    // rejected while the first task still holds the worker (it waits for `release`)
    await expect(second).rejects.toThrow("changed my mind");
    release.set();
    expect(await first).toBe("first");
    expect(await pool.apply("square", [3])).toBe(9); // the worker went on past the skipped task
    expect(ran.isSet()).toBe(false);
    expect(pool.metrics().workersReplaced).toBe(0);
  }, 60_000);

  it("map, apply, starmap, typed tasks (seed: Pool(5).map(f, [1, 2, 3]))", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 2, context });
    expect(await pool.map("square", [1, 2, 3])).toEqual([1, 4, 9]);
    expect(await pool.map(tasks.square, new Set([4, 5]))).toEqual([16, 25]);
    expect(await pool.map("square", [])).toEqual([]);
    expect(await pool.map("square", Array.from({ length: 100 }, (_, i) => i), { chunkSize: 7 })).toEqual(Array.from({ length: 100 }, (_, i) => i * i));
    async function* gen() {
      yield 6;
      yield 7;
    }
    expect(await pool.map("square", gen())).toEqual([36, 49]);
    expect(await pool.apply("add", [2, 3])).toBe(5);
    expect(await pool.apply(tasks.slowSquare, [3, 1])).toBe(9);
    expect(await pool.starmap("add", [[1, 2], [3, 4]])).toEqual([3, 7]);
    expect(await pool.starmapAsync("add", [[5, 5]]).get()).toEqual([10]);
  });

  it("applyAsync: get with timeout → TimeoutError and the task keeps running; ready, successful, wait, callbacks", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 2, context });
    let called: unknown;
    const r = pool.applyAsync("slowSquare", [4, 300], { callback: (v) => (called = v) });
    expect(r.ready()).toBe(false);
    expect(() => r.successful()).toThrow(InvalidStateError);
    await expect(r.get({ timeout: 20 })).rejects.toThrow(TimeoutError);
    expect(await r.get({ timeout: 20_000 })).toBe(16);
    expect(r.ready()).toBe(true);
    expect(r.successful()).toBe(true);
    expect(called).toBe(16);
    let failure: unknown;
    const bad = pool.applyAsync("failAt", [1, 1], { errorCallback: (e) => (failure = e) });
    await bad.wait({ timeout: 20_000 });
    expect(bad.successful()).toBe(false);
    expect((failure as Error).name).toBe("RangeError");
    let list: unknown;
    await pool.mapAsync("square", [1, 2], { callback: (v) => (list = v) }).wait();
    expect(list).toEqual([1, 4]);
  });

  it("{ timeout, signal } on AsyncResult.get/wait and Pool.apply: the wait ends, the task runs on", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 1, context });
    const go = new Event();
    const r = pool.applyAsync("waitEvent", [go, "done"]);
    const stop = new AbortController();
    const waiting = r.get({ signal: stop.signal });
    stop.abort(new RangeError("stopped waiting"));
    await expect(waiting).rejects.toThrow("stopped waiting");
    await expect(r.get({ signal: AbortSignal.abort(new RangeError("already")) })).rejects.toThrow("already");
    await r.wait({ signal: AbortSignal.abort() }); // wait never rejects
    await expect(r.get({ timeout: 10 })).rejects.toThrow(TimeoutError);
    await expect(r.get({ timeout: "1" as never })).rejects.toThrow(TypeError);
    await expect(r.get({ signal: {} as never })).rejects.toThrow(TypeError);
    expect(r.ready()).toBe(false); // the task runs on
    await expect(pool.apply("waitEvent", [go, "again"], { timeout: 10 })).rejects.toThrow(TimeoutError);
    go.set();
    expect(await r.get({ timeout: 20_000, signal: new AbortController().signal })).toBe("done");
    expect(await pool.apply("square", [5], { timeout: 20_000 })).toBe(25);
  }, 60_000);

  it("a task's error keeps its name, message and remote stack; an unserializable result fails that task only", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 1, context });
    const e = (await pool.apply("failAt", [7, 7]).catch((x: Error) => x)) as Error;
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe("bad item 7");
    expect(e.stack).toMatch(/at failAt .*tasks\.mjs/);
    await expect(pool.apply("unserializable")).rejects.toThrow(SerializationError);
    await expect(pool.apply("nope" as never)).rejects.toThrow(/no exported function "nope"/);
    expect(await pool.apply("square", [5])).toBe(25);
  });

  it("imap is ordered; imapUnordered yields as completed", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 2, context });
    const ordered: number[] = [];
    for await (const v of pool.imap("square", [1, 2, 3, 4, 5])) ordered.push(v);
    expect(ordered).toEqual([1, 4, 9, 16, 25]);
    const unordered: number[] = [];
    for await (const v of pool.imapUnordered("square", [1, 2, 3, 4, 5], { chunkSize: 2 })) unordered.push(v);
    expect(unordered.sort((a, b) => a - b)).toEqual([1, 4, 9, 16, 25]);
  });

  it("imap with chunkSize 2 and an error at item 7 yields exactly 6 results first (POOL)", async () => {
    await using pool = new Pool({ module, processes: 2, context });
    const got: unknown[] = [];
    let error: unknown;
    try {
      for await (const v of pool.imap("failAt7", Array.from({ length: 10 }, (_, i) => i), { chunkSize: 2 })) got.push(v);
    } catch (e) {
      error = e;
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    expect((error as Error).message).toBe("seven");
  });

  it("an error thrown by the input iterable is re-thrown as it is; input is read only a bounded distance ahead", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 2, context });
    const boom = new Error("input broke");
    function* bad() {
      yield 1;
      yield 2;
      throw boom;
    }
    const got: number[] = [];
    let error: unknown;
    try {
      for await (const v of pool.imap("square", bad())) got.push(v);
    } catch (e) {
      error = e;
    }
    expect(error).toBe(boom);
    expect(got).toEqual([1, 4]);
    let read = 0;
    function* huge() {
      for (let i = 0; i < 10_000_000; i++) {
        read++;
        yield i;
      }
    }
    let seen = 0;
    for await (const _ of pool.imapUnordered("square", huge())) {
      if (++seen === 50) break;
    }
    expect(read).toBeLessThan(200);
  });

  it("input errors in imap: the chunk the error falls in fails as a whole (POOL-13)", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 2, context });
    class SayWhenError extends Error {}
    function* sayWhen(total: number, when: number) {
      for (let i = 0; i < total; i++) {
        if (i === when) throw new SayWhenError(`at ${i}`);
        yield i;
      }
    }
    const collect = async (when: number, chunkSize: number) => {
      const got: number[] = [];
      try {
        for await (const v of pool.imap("square", sayWhen(10, when), { chunkSize })) got.push(v);
      } catch (e) {
        expect(e).toBeInstanceOf(SayWhenError);
        return got;
      }
      throw new Error("no error");
    };
    expect(await collect(0, 1)).toEqual([]);
    expect(await collect(0, 1)).toEqual([]);
    expect(await collect(3, 1)).toEqual([0, 1, 4]);
    expect(await collect(7, 2)).toEqual([0, 1, 4, 9, 16, 25]);
    expect(await collect(7, 4)).toEqual([0, 1, 4, 9]);
    // map over a generator that throws rejects with that error, and the pool stays usable (POOL-09)
    await expect(pool.map("square", sayWhen(10, 3))).rejects.toThrow(SayWhenError);
    expect(await pool.map("square", [2])).toEqual([4]);
  });

  it("maxTasksPerChild 1 with close() and join() right away does not hang (POOL-27)", async () => {
    const pool = new Pool<Tasks>({ module, processes: 3, context, maxTasksPerChild: 1 });
    const results = Array.from({ length: 6 }, (_, i) => pool.apply("slowSquare", [i, 30]));
    pool.close();
    await pool.join();
    expect(await Promise.all(results)).toEqual([0, 1, 4, 9, 16, 25]);
  });

  it("a failing task does not make map fail fast and wedge the pool (POOL-22)", async () => {
    const pool = new Pool<Tasks>({ module, processes: 2, context });
    await expect(pool.starmap("failAt", [[0, 0], [1, 2]])).rejects.toThrow("bad item 0");
    pool.close();
    await pool.join();
  });

  it("an error thrown after a task returned (a timer, an unhandled rejection) ends that worker, which is replaced, the same in both contexts", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 1, context });
    for (const [task, replaced] of [["lateThrow", 1], ["lateReject", 2]] as const) {
      expect(await pool.apply(task)).toBe("returned");
      const deadline = Date.now() + 20_000;
      while (pool.metrics().workersReplaced < replaced && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(pool.metrics().workersReplaced).toBe(replaced);
      expect(await pool.apply("square", [7])).toBe(49);
    }
  });

  it("a worker that dies mid-task fails that task with WorkerLostError; a new worker takes its place", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 2, context });
    const others = Array.from({ length: 20 }, (_, i) => pool.apply("slowSquare", [i, 5]));
    await expect(pool.apply("die", [3])).rejects.toThrow(WorkerLostError);
    if (context === "process") await expect(pool.apply("killSelf")).rejects.toThrow(WorkerLostError);
    expect(await Promise.all(others)).toEqual(Array.from({ length: 20 }, (_, i) => i * i));
    expect(await pool.apply("square", [6])).toBe(36);
    const m = pool.metrics();
    expect(m.workersReplaced).toBeGreaterThanOrEqual(1);
    expect(m.workers).toBe(2);
    expect(m.tasksFailed).toBeGreaterThanOrEqual(1);
  });

  it("initializer and initArgs run once per worker; a throwing initializer fails the pool's work", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 2, context, initializer: "init", initArgs: ["yes"] });
    expect(await pool.apply("initialized_")).toBe("yes");
    await using broken = new Pool<Tasks>({ module, processes: 2, context, initializer: "throwingInit" });
    const e = (await broken.map("square", [1, 2, 3]).catch((x: Error) => x)) as Error;
    expect(e).toBeInstanceOf(ProcessError);
    expect((e.cause as Error).message).toBe("init failed");
    await expect(broken.apply("square", [1])).rejects.toThrow(ProcessError);
  });

  it("a task module that cannot be loaded fails the pool's work at once, without respawning workers forever", async () => {
    await using pool = new Pool({ module: new URL("./fixtures/no-such-module.mjs", import.meta.url), processes: 2, context });
    const e = (await pool.apply("square", [1]).catch((x: Error) => x)) as Error;
    expect(e).toBeInstanceOf(ProcessError);
    expect(String((e.cause as Error)?.message ?? e.message)).toMatch(/no-such-module|Cannot find module/);
    await expect(pool.map("square", [1, 2])).rejects.toThrow(ProcessError);
    expect(pool.metrics().workersReplaced).toBe(0);
  });

  it("maxTasksPerChild replaces a worker after n tasks", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 1, context, maxTasksPerChild: 2 });
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push(await pool.apply("whoami"));
    expect(new Set(names).size).toBe(3);
  });

  it("AbortSignal: a queued task is removed; a running one ends its worker", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 1, context });
    const ac = new AbortController();
    const running = pool.apply("forever", [], { signal: ac.signal });
    const queued = new AbortController();
    const waiting = pool.apply("square", [2], { signal: queued.signal });
    queued.abort(new Error("not needed"));
    await expect(waiting).rejects.toThrow("not needed");
    ac.abort(new Error("too slow"));
    await expect(running).rejects.toThrow("too slow");
    expect(await pool.apply("square", [3])).toBe(9);
    await expect(pool.apply("square", [1], { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it("onProgress, metrics, close/join/terminate", async () => {
    const pool = new Pool<Tasks>({ module, processes: 2, context });
    await expect(pool.join()).rejects.toThrow(InvalidStateError);
    const progress: number[] = [];
    await pool.map("square", Array.from({ length: 40 }, (_, i) => i), { chunkSize: 10, onProgress: (done, total) => progress.push(done / total!) });
    expect(progress.at(-1)).toBe(1);
    expect(progress.length).toBe(4);
    const m = pool.metrics();
    expect(m.tasksCompleted).toBeGreaterThanOrEqual(4);
    expect(m.queueLength).toBe(0);
    expect(m.runTime.p50).toBeGreaterThanOrEqual(0);
    const last = pool.apply("slowSquare", [2, 50]);
    pool.close();
    // use after close(): ClosedError for every way to submit
    await expect(pool.apply("square", [1])).rejects.toThrow(ClosedError);
    await expect(pool.applyAsync("square", [1]).get()).rejects.toThrow(ClosedError);
    await expect(pool.map("square", [1])).rejects.toThrow(ClosedError);
    await expect(pool.starmap("add", [[1, 2]])).rejects.toThrow(ClosedError);
    await expect(pool.mapAsync("square", [1]).get()).rejects.toThrow(ClosedError);
    await expect(async () => {
      for await (const x of pool.imap("square", [1])) void x;
    }).rejects.toThrow(ClosedError);
    expect(await last).toBe(4);
    await pool.join();
    expect(pool.metrics().workers).toBe(0);
    const t = new Pool<Tasks>({ module, processes: 1, context });
    const never = t.apply("forever");
    // queued behind it on the same worker, and queued in the pool: all settle on terminate
    const behind = Array.from({ length: 5 }, () => t.apply("square", [2]));
    await t.terminate();
    await expect(never).rejects.toThrow(IpcError);
    for (const b of behind) await expect(b).rejects.toThrow(IpcError);
  });
});

describe.each(["thread", "process"] as const)("resource limits (%s workers)", (context) => {
  it("a worker that runs out of memory fails its task with WorkerLostError, and is replaced", async () => {
    await using pool = new Pool<Tasks>({ module, processes: 1, context, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    await expect(pool.apply("allocate", [400])).rejects.toThrow(WorkerLostError);
    expect(await pool.apply("square", [4])).toBe(16);
  });
});

describe("start-up from the build (CommonJS bootstrap)", () => {
  // plain Node processes run the built @ipc/pool (vitest runs the sources, which start workers from .ts)
  const probe = new URL("./fixtures/startup-probe.cjs", import.meta.url).href;
  const startPool = () => {
    const script = `import { Pool } from "@ipc/pool";
      const pool = new Pool({ module: ${JSON.stringify(probe)}, processes: 1 });
      console.log(JSON.stringify(await pool.apply("probe", [])));
      await pool.close(); await pool.join();`;
    return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 }));
  };

  it("a thread worker finds @ipc/core/slim where its parent resolved it, and runs tasks", () => {
    expect(startPool()).toEqual({ seeded: 2, slim: 1 });
  });
});

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { timed } from "@ipc/test-utils/timed";
import { ClosedError, EmptyError, Event, FullError, InvalidStateError, nativeAvailable, SerializationError, ShutDownError } from "@ipc/core";
import { Process } from "@ipc/process";
import { JoinableQueue, Queue, SimpleQueue } from "@ipc/queue";

const workers = new URL("./fixtures/workers.mjs", import.meta.url).href;
const contexts = ["thread", "process"] as const;

async function run(target: string, args: unknown[], context: "thread" | "process"): Promise<number | null> {
  const p = new Process({ module: workers, target, args, context });
  p.start();
  await p.join({ timeout: 30_000 });
  expect(p.isAlive()).toBe(false);
  return p.exitCode;
}

describe("Queue in one thread", () => {
  it("2,000 pending gets on one queue all complete, with no MaxListenersExceededWarning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const q = new Queue<number>();
      const gets = Array.from({ length: 2000 }, () => q.get({ timeout: 20_000 }));
      for (let i = 0; i < 2000; i++) await q.put(i);
      expect((await Promise.all(gets)).sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
      // warnings are emitted on the next tick
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("put forms, full and Full timing (QUEUE-01)", async () => {
    const q = new Queue<number>({ maxSize: 6 });
    expect(q.empty()).toBe(true);
    expect(q.full()).toBe(false);
    await q.put(1);
    await q.put(2, {});
    await q.put(3, { timeout: undefined });
    q.putSync(4);
    q.putSync(5, { timeout: 0 });
    q.putNowait(6);
    expect(q.empty()).toBe(false);
    expect(q.full()).toBe(true);
    expect(q.qsize()).toBe(6);
    expect(() => q.putNowait(7)).toThrow(FullError);
    await expect(timed(q.put(7, { timeout: 0 }), 0, 50)).rejects.toThrow(FullError);
    await expect(timed(() => q.put(7, { timeout: 100 }), 100, 600)).rejects.toThrow(FullError);
    expect(() => q.putSync(7, { timeout: 50 })).toThrow(FullError);
    for (let i = 1; i <= 6; i++) expect(await q.get()).toBe(i);
    expect(q.empty()).toBe(true);
    expect(q.full()).toBe(false);
  });

  it("get forms and Empty timing (QUEUE-02, QUEUE-06)", async () => {
    const q = new Queue<number>();
    for (const i of [2, 3, 4, 5]) await q.put(i);
    expect(await q.get({ timeout: undefined })).toBe(2);
    expect(await q.get()).toBe(3);
    expect(q.getSync({ timeout: 1000 })).toBe(4);
    expect(q.getNowait()).toBe(5);
    expect(q.empty()).toBe(true);
    await expect(timed(q.get({ timeout: 0 }), 0, 50)).rejects.toThrow(EmptyError);
    expect(() => q.getNowait()).toThrow(EmptyError);
    await expect(timed(() => q.get({ timeout: 200 }), 200, 700)).rejects.toThrow(EmptyError);
    const t = performance.now();
    expect(() => q.getSync({ timeout: 100 })).toThrow(EmptyError);
    expect(performance.now() - t).toBeGreaterThanOrEqual(95);
  });

  it("qsize counts items (QUEUE-04) and keeps FIFO order of any values", async () => {
    const q = new Queue();
    expect(q.qsize()).toBe(0);
    await q.put(1);
    expect(q.qsize()).toBe(1);
    await q.put(5);
    expect(q.qsize()).toBe(2);
    await q.get();
    expect(q.qsize()).toBe(1);
    await q.get();
    expect(q.qsize()).toBe(0);
    const values = [null, undefined, "", 0, { a: [1, new Map([[1, 2]])] }, new Uint8Array([1, 2]), new Error("e")];
    for (const v of values) await q.put(v);
    const out = [];
    for (let i = 0; i < values.length; i++) out.push(await q.get());
    expect(out.slice(0, 6)).toEqual(values.slice(0, 6));
    expect(out[6]).toBeInstanceOf(Error);
  });

  it("an item that cannot be serialized is refused at put and never takes a slot (QUEUE-07)", async () => {
    const q = new Queue({ maxSize: 1 });
    await expect(q.put({ f() {} })).rejects.toThrow(SerializationError);
    expect(() => q.putSync({ f() {} })).toThrow(/value\.f: function/);
    await q.put(true);
    expect(q.qsize()).toBe(1);
    expect(await q.get()).toBe(true);
    expect(q.empty()).toBe(true);
  });

  it("items of any size pass a small ring intact (64 MiB through 4 KiB)", async () => {
    const q = new Queue<Uint8Array>({ ringSize: 4096 });
    const big = new Uint8Array(64 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4093) big[i] = (i / 4093) & 255;
    const putting = q.put(big);
    const got = await q.get();
    await putting;
    expect(got.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(big.buffer))).toBe(0);
  }, 120_000);

  it("put of an item larger than the ring returns once it is in the queue, before anyone reads it; order is kept", async () => {
    // Python's put returns once its feeder thread has the item: in one thread, put then get
    const q = new Queue<Uint8Array | string>({ maxSize: 1 });
    const big = new Uint8Array(16 * 1024 * 1024).fill(7);
    await q.put(big, { timeout: 10_000 });
    expect(q.qsize()).toBe(1);
    const after = q.put("after"); // waits for the slot, behind the large item
    const got = (await q.get({ timeout: 30_000 })) as Uint8Array;
    expect(got.length).toBe(big.length);
    expect(got.every((b) => b === 7)).toBe(true);
    await after;
    expect(await q.get({ timeout: 10_000 })).toBe("after");
    // a large item that cannot even start (no slot) still times out, and an aborted one never enters
    await q.put("fill");
    await expect(q.put(big, { timeout: 20 })).rejects.toThrow(FullError);
    const ac = new AbortController();
    const aborted = q.put(big, { signal: ac.signal });
    ac.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    expect(await q.get()).toBe("fill");
    expect(q.qsize()).toBe(0);
  }, 60_000);

  it("close: this handle may put and get no more (QUEUE-09, QUEUE-10)", async () => {
    const q = new Queue();
    q.close();
    q.close();
    expect(q.empty()).toBe(true);
    await expect(q.put("foo")).rejects.toThrow(ClosedError);
    await expect(q.get()).rejects.toThrow(/is closed/);
    expect(() => q.putSync(1)).toThrow(ClosedError);
  });

  it("close rejects the calls pending on that handle with ClosedError, and leaves nothing keeping the process alive", async () => {
    for (const Q of [Queue, SimpleQueue, JoinableQueue]) {
      const q = new Q<number>();
      const other = Q === SimpleQueue ? new Queue({ maxSize: 1 }) : new Q<number>({ maxSize: 1 });
      await other.put(1);
      const pending = [q.get(), q.get({ timeout: 60_000 }), other.put(2), other.put(3, { signal: new AbortController().signal })];
      q.close();
      other.close();
      for (const p of pending) await expect(p).rejects.toThrow(ClosedError);
      await expect(q.get()).rejects.toThrow(ClosedError);
    }
    const jq = new JoinableQueue();
    jq.putSync(1);
    const joining = jq.join();
    jq.close();
    await expect(joining).rejects.toThrow(/was closed while this call waited/);
    await expect(jq.join()).rejects.toThrow(ClosedError);
    expect(() => jq.joinSync()).toThrow(ClosedError);
    // in a plain Node process (from the build), with and without the addon: the process ends
    const script = `import { Queue, SimpleQueue, JoinableQueue } from "@ipc/queue";
      const out = [];
      for (const Q of [Queue, SimpleQueue, JoinableQueue]) { const q = new Q(); const p = q.get(); q.close(); await p.catch((e) => out.push(e.name)); }
      const j = new JoinableQueue(); j.putSync(1); const p = j.join(); j.close(); await p.catch((e) => out.push(e.name));
      console.log(out.join(","));`;
    for (const native of ["1", "0"]) {
      const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, IPC_NATIVE: native }, timeout: 20_000 });
      expect(stdout.trim()).toBe("ClosedError,ClosedError,ClosedError,ClosedError");
    }
  });

  it("shutdown: puts fail, gets drain then fail (QUEUE-11, QUEUE-12)", async () => {
    const q = new Queue<string>({ maxSize: 1 });
    await q.put("data");
    q.shutdown();
    expect(q.qsize()).toBe(1);
    await expect(q.put("x")).rejects.toThrow(ShutDownError);
    expect(() => q.putNowait("x")).toThrow(ShutDownError);
    expect(await q.get()).toBe("data");
    await expect(q.get()).rejects.toThrow(ShutDownError);
    expect(() => q.getNowait()).toThrow(ShutDownError);
  });

  it("shutdown wakes blocked putters and getters", async () => {
    const full = new Queue({ maxSize: 1 });
    await full.put(1);
    const putter = full.put(2);
    const empty = new Queue();
    const getter = empty.get();
    full.shutdown();
    empty.shutdown();
    await expect(putter).rejects.toThrow(ShutDownError);
    await expect(getter).rejects.toThrow(ShutDownError);
  });

  it("shutdown immediate discards items (QUEUE-13)", async () => {
    const q = new Queue();
    await q.put("data");
    q.shutdown({ immediate: true });
    expect(q.qsize()).toBe(0);
    await expect(q.get()).rejects.toThrow(ShutDownError);
    await expect(q.put(1)).rejects.toThrow(ShutDownError);
  });

  it("async iteration ends at shutdown once drained", async () => {
    const q = new Queue<number>();
    for (const i of [1, 2, 3]) await q.put(i);
    q.shutdown();
    const out: number[] = [];
    for await (const v of q) out.push(v);
    expect(out).toEqual([1, 2, 3]);
    // once ended, an iterator stays ended
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it("breaking out of for await takes no more items: the rest stay for the next reader", async () => {
    const q = new Queue<number>();
    for (const i of [1, 2, 3, 4]) await q.put(i);
    const seen: number[] = [];
    for await (const v of q) {
      seen.push(v);
      if (v === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(await q.get()).toBe(3);
    const it = q[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ value: 4, done: false });
    expect(await it.return!()).toEqual({ value: undefined, done: true });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(q.qsize()).toBe(0);
  });

  it("an AbortSignal cancels a waiting get or put", async () => {
    const q = new Queue({ maxSize: 1 });
    const ac = new AbortController();
    const g = q.get({ signal: ac.signal });
    ac.abort(new Error("stop"));
    await expect(g).rejects.toThrow("stop");
    await q.put(1);
    await expect(q.put(2, { signal: AbortSignal.timeout(20) })).rejects.toThrow();
    expect(await q.get()).toBe(1);
    expect(q.empty()).toBe(true);
  });

  it("validates options", () => {
    expect(() => new Queue({ maxSize: -1 })).toThrow(RangeError);
    expect(() => new Queue({ ringSize: 5000 })).toThrow(/power of two/);
    expect(() => new Queue({ ringSize: 1024 })).toThrow(RangeError);
    expect(() => new Queue(5 as never)).toThrow(TypeError);
  });
});

describe("JoinableQueue", () => {
  it("join waits for every taskDone; too many taskDone throws", async () => {
    const q = new JoinableQueue<number>();
    await expect(timed(q.join({ timeout: 0 }), 0, 50)).resolves.toBeUndefined();
    for (let i = 0; i < 3; i++) await q.put(i);
    let joined = false;
    const j = q.join().then(() => (joined = true));
    for (let i = 0; i < 3; i++) {
      await q.get();
      expect(joined).toBe(false);
      q.taskDone();
    }
    await j;
    expect(joined).toBe(true);
    expect(() => q.taskDone()).toThrow(InvalidStateError);
    q.joinSync();
  });

  it("immediate shutdown counts discarded items as done, not the taken ones (QUEUE-13, QUEUE-14)", async () => {
    const q = new JoinableQueue<string>();
    await q.put("a");
    await q.put("b");
    expect(await q.get()).toBe("a");
    q.shutdown({ immediate: true });
    expect(q.qsize()).toBe(0);
    let joined = false;
    const j = q.join().then(() => (joined = true));
    await new Promise((r) => setImmediate(r));
    expect(joined).toBe(false);
    q.taskDone();
    await j;
    expect(() => q.taskDone()).toThrow(InvalidStateError);
  });
});

describe("SimpleQueue (SQ-01..03)", () => {
  it("put, get, empty, close", async () => {
    const q = new SimpleQueue<boolean>();
    expect(q.empty()).toBe(true);
    await q.put(true);
    q.putSync(false);
    expect(q.empty()).toBe(false);
    expect(await q.get()).toBe(true);
    expect(q.getSync()).toBe(false);
    expect(q.empty()).toBe(true);
    q.close();
    q.close();
    expect(() => q.empty()).toThrow(ClosedError);
  });
});

describe.each(contexts)("queues shared with %s children", (context) => {
  it("a child closing its handles ends the calls it had pending with ClosedError, and exits", async () => {
    const q = new Queue();
    const full = new Queue({ maxSize: 1 });
    full.putSync(0);
    const joinable = new JoinableQueue();
    joinable.putSync(1);
    const results = new Queue<string>();
    expect(await run("closePending", [q, full, joinable, results], context)).toBe(0);
    for (let i = 0; i < 3; i++) expect(await results.get({ timeout: 5000 })).toMatch(/^ClosedError: .* was closed while this call waited$/);
    // the parent's handles are unaffected
    expect(full.getSync({ timeout: 0 })).toBe(0);
    expect(joinable.qsize()).toBe(1);
  });

  it("a child's puts reach the parent in order (QUEUE-02, QUEUE-03)", async () => {
    const q = new Queue<number>();
    for (let i = 0; i < 10; i++) await q.put(i);
    const ev = new Event();
    expect(await run("putThenSignal", [q, [10, 11, 12, 13, 14], ev], context)).toBe(0);
    expect(ev.isSet()).toBe(true);
    const got = [];
    for (let i = 0; i < 15; i++) got.push(await q.get({ timeout: 5000 }));
    expect(got).toEqual(Array.from({ length: 15 }, (_, i) => i));
    await expect(q.get({ timeout: 0 })).rejects.toThrow(EmptyError);
  });

  it("a child gets what the parent put, and Empty/ShutDown errors cross back", async () => {
    const q = new Queue<string>();
    const results = new Queue<{ ok?: string; error?: string }>();
    await q.put("hello");
    await run("getAndReport", [q, results, 5000], context);
    expect(await results.get({ timeout: 5000 })).toEqual({ ok: "hello" });
    await run("getAndReport", [q, results, 50], context);
    expect(await results.get({ timeout: 5000 })).toEqual({ error: "EmptyError" });
    q.shutdown();
    await run("getAndReport", [q, results, 5000], context);
    expect(await results.get({ timeout: 5000 })).toEqual({ error: "ShutDownError" });
  });

  it("JoinableQueue: a child joiner is released by the parent's taskDone calls (QUEUE-05)", async () => {
    const q = new JoinableQueue<number>();
    for (let i = 0; i < 4; i++) await q.put(i);
    const ev = new Event();
    const joiner = new Process({ module: workers, target: "joiner", args: [q, ev], context });
    joiner.start();
    const drainer = new Process({ module: workers, target: "drainTasks", args: [q, 4], context });
    drainer.start();
    expect(await ev.wait({ timeout: 20_000 })).toBe(true);
    await joiner.join({ timeout: 20_000 });
    await drainer.join({ timeout: 20_000 });
    expect([joiner.exitCode, drainer.exitCode]).toEqual([0, 0]);
    expect(() => q.taskDone()).toThrow(InvalidStateError);
  });

  it("sizes, sync forms, nowait errors and shutdown work through the child's handle (QUEUE-15)", async () => {
    const q = new Queue<number>({ maxSize: 2 });
    await q.put(5);
    await q.put(6);
    expect(await run("syncSurface", [q], context)).toBe(31);
    // what the child did is seen here: 8 was put, then the queue was shut down
    expect(await q.get({ timeout: 1000 })).toBe(8);
    await expect(q.get()).rejects.toThrow(ShutDownError);
  });

  it("a big item crosses intact", async () => {
    const q = new Queue<Uint8Array>({ ringSize: 1 << 16 });
    const results = new Queue<{ ok?: Uint8Array }>();
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 255);
    // an item larger than the ring is streamed: its put completes as the child takes it; and, as
    // in Python, take what a child puts before joining it (its put waits for room)
    const putting = q.put(big);
    const child = run("getAndReport", [q, results, 10_000], context);
    const got = (await results.get({ timeout: 10_000 })).ok!;
    await putting;
    expect(await child).toBe(0);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(big))).toBe(0);
  });
});

describe("without the native addon", () => {
  it("IPC_NATIVE=0: a queue still reaches a child process, through the broker", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/fallback.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { env: { ...process.env, IPC_NATIVE: "0" }, timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ native: false, out: [1, 4, 9], exitCode: 0 });
  });

  it("400 waits aborted by close() in a plain process: it still ends by itself, with and without the addon", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/close-rounds.mjs", import.meta.url));
    for (const native of ["1", "0"]) {
      const { stdout } = await promisify(execFile)(process.execPath, [fixture], { env: { ...process.env, IPC_NATIVE: native }, timeout: 30_000 });
      expect(stdout.trim()).toBe("400");
    }
  }, 90_000);

  it.each([
    ["through the broker (IPC_NATIVE=0)", "0"],
    ["in native shared memory", "1"],
  ])("an item larger than 256 MiB crosses to a child process and back intact, %s", async (_, native) => {
    if (native === "1" && !nativeAvailable()) return;
    const fixture = fileURLToPath(new URL("./fixtures/large-item.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { env: { ...process.env, IPC_NATIVE: native }, timeout: 120_000 });
    expect(JSON.parse(stdout)).toEqual({ native: native === "1", length: 300 * 1024 * 1024, same: true, exitCode: 0 });
  }, 150_000);

  it.runIf(nativeAvailable())("200 queues handed to a child process and closed are released: descriptors closed, memory unmapped", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/release.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", fixture], { timeout: 60_000 });
    const r = JSON.parse(stdout) as { sum: number; exitCode: number; before: { fds: number; mib: number }; held: { fds: number; mib: number }; after: { fds: number; mib: number } };
    expect([r.sum, r.exitCode]).toEqual([19900, 0]);
    expect(r.held.fds).toBeGreaterThanOrEqual(200);
    expect(r.held.mib).toBeGreaterThanOrEqual(200);
    expect(r.after.fds).toBeLessThanOrEqual(r.before.fds + 2);
    expect(r.after.mib).toBeLessThanOrEqual(r.before.mib + 2);
  }, 90_000);

  it.runIf(nativeAvailable())("out of descriptors: new queues fall back to a SharedArrayBuffer (one warning) and keep working", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/out-of-fds.mjs", import.meta.url));
    const { stdout } = await promisify(execFile)("bash", ["-c", `ulimit -n 128 && exec "${process.execPath}" "${fixture}"`], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ someNative: true, allNative: false, lastNative: false, answer: 42, warnings: ["IpcWarning"] });
  });
});


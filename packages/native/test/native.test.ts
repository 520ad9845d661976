import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { native } from "../src/index.js";

const peer = new URL("./fixtures/peer.mjs", import.meta.url);
const linux = process.platform === "linux";

/** Runs the peer in a child process; resolves its first message, then lets it exit. */
async function inProcess(path: string, size: number, ...args: (string | number)[]): Promise<{ child: ChildProcess; reply: Promise<any> }> {
  const child = fork(peer, [path, String(size), ...args.map(String)], { stdio: "inherit" });
  const reply = once(child, "message").then(([m]) => {
    child.send("bye");
    return m;
  });
  return { child, reply };
}

function inThread(path: string, size: number, ...args: (string | number)[]): { worker: Worker; reply: Promise<any> } {
  const worker = new Worker(peer, { workerData: [path, String(size), ...args.map(String)] });
  const reply = once(worker, "message").then(([m]) => m);
  return { worker, reply };
}

/** Waits (bounded) until word `index` becomes nonzero, sleeping on the futex meanwhile. */
function awaitFlag(id: number, i32: Int32Array, index: number): void {
  const end = Date.now() + 10_000;
  while (Atomics.load(i32, index) === 0) {
    if (Date.now() > end) throw new Error("peer never raised its flag");
    native!.wait(id, index * 4, 0, 50);
  }
}

describe.runIf(linux && process.env.IPC_NATIVE !== "0")("@ipc/native", () => {
  it("is built on this machine", () => {
    expect(native).toBeDefined();
  });

  it("create gives a zeroed SharedArrayBuffer of the size asked", () => {
    const [buffer, id, fd] = native!.create(4096);
    expect(buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(buffer.byteLength).toBe(4096);
    expect(new Uint8Array(buffer).every((b) => b === 0)).toBe(true);
    expect(id).toBeGreaterThan(0);
    expect(fd).toBeGreaterThan(2);
  });

  it("releaseDescriptor closes a mapping's descriptor at once; the memory stays mapped and usable", () => {
    const [buffer, id, fd] = native!.create(4096);
    const i32 = new Int32Array(buffer);
    Atomics.store(i32, 0, 7);
    const link = () => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "closed";
      }
    };
    expect(link()).toMatch(/^\/memfd:ipc-native/);
    expect(native!.releaseDescriptor(id)).toBe(true);
    expect(link()).not.toMatch(/^\/memfd:ipc-native/);
    expect(native!.releaseDescriptor(id)).toBe(false); // once
    expect(native!.releaseDescriptor(0)).toBe(false);
    expect(native!.releaseDescriptor(1 << 20)).toBe(false);
    // still mapped: words and futex wake-ups work as before
    expect(Atomics.add(i32, 0, 1)).toBe(7);
    expect(native!.wait(id, 0, 7, 0)).toBe(1);
    expect(native!.wake(id, 0, 1)).toBe(0);
  });

  it("a child process maps the same memory by path, and Atomics.add loses no update across processes", async () => {
    const [buffer, , fd] = native!.create(4096);
    const i32 = new Int32Array(buffer);
    const path = `/proc/${process.pid}/fd/${fd}`;
    const { reply } = await inProcess(path, 4096, "add", 200_000);
    const mine = (async () => {
      while (Atomics.load(i32, 0) === 0) await new Promise((r) => setImmediate(r));
    })();
    Atomics.store(i32, 0, 1);
    await mine;
    for (let k = 0; k < 200_000; k++) Atomics.add(i32, 2, 1);
    await reply;
    expect(Atomics.load(i32, 2)).toBe(400_000);
  });

  it("a worker thread maps it by path too, and a posted buffer is the same memory", async () => {
    const [buffer, , fd] = native!.create(4096);
    const { reply } = inThread(`/proc/self/fd/${fd}`, 4096, "write", "hello");
    await reply;
    expect(new TextDecoder().decode(new Uint8Array(buffer, 16, 5))).toBe("hello");
    const w = new Worker("const { workerData: b } = require('node:worker_threads'); new Int32Array(b)[3] = 42;", { eval: true, workerData: buffer });
    await once(w, "exit");
    expect(new Int32Array(buffer)[3]).toBe(42);
  });

  it("yieldCpu returns at once, called bare, here and in a worker thread spinning on another thread's flag", async () => {
    const { yieldCpu } = native!;
    expect(yieldCpu()).toBeUndefined();
    // a worker spins (yielding between looks) until this thread raises a flag, then reports
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const w = new Worker(
      `const { workerData: f, parentPort } = require("node:worker_threads");
       const { yieldCpu } = require(${JSON.stringify(new URL("../dist/index.cjs", import.meta.url).pathname)}).native;
       Atomics.store(f, 1, 1);
       const end = Date.now() + 10_000;
       while (Atomics.load(f, 0) === 0 && Date.now() < end) yieldCpu();
       parentPort.postMessage([Atomics.load(f, 0)]);`,
      { eval: true, workerData: flag },
    );
    const end = Date.now() + 10_000;
    while (Atomics.load(flag, 1) === 0 && Date.now() < end) yieldCpu();
    Atomics.store(flag, 0, 1);
    const [[seen]] = (await once(w, "message")) as [[number, number]];
    expect(seen).toBe(1);
  });

  it("watchThreadEnd: a worker thread that is terminated, throws or returns sets its own bit in the table as it goes", async () => {
    const table = new Int32Array(new SharedArrayBuffer(4096 * 4));
    const addon = JSON.stringify(new URL("../dist/index.cjs", import.meta.url).pathname);
    const body = {
      terminated: "parentPort.postMessage('ready'); for (;;) {}",
      thrown: "throw new Error('boom')",
      returned: "",
    };
    for (const [how, code] of Object.entries(body)) {
      const w = new Worker(
        `const { workerData: t, threadId, parentPort } = require("node:worker_threads");
         require(${addon}).native.watchThreadEnd(t.buffer, threadId);
         ${code}`,
        { eval: true, workerData: table },
      );
      w.on("error", () => {});
      const tid = w.threadId; // -1 once it has exited
      const bit = (): number => Atomics.load(table, tid >>> 5) & (1 << (tid & 31));
      if (how === "terminated") {
        await once(w, "message");
        expect(bit(), how).toBe(0);
        await w.terminate();
      } else await new Promise((r) => w.once("exit", r));
      expect(bit(), how).not.toBe(0);
    }
    expect(() => native!.watchThreadEnd(new ArrayBuffer(8) as never, 1)).toThrow(/SharedArrayBuffer/);
    expect(() => native!.watchThreadEnd(table.buffer as SharedArrayBuffer, -1)).toThrow(/thread id/);
  });

  it("wait: not-equal at once, timed-out after the timeout", () => {
    const [buffer, id] = native!.create(64);
    new Int32Array(buffer)[0] = 7;
    expect(native!.wait(id, 0, 8, 1000)).toBe(1);
    const t = performance.now();
    expect(native!.wait(id, 0, 7, 30)).toBe(2);
    expect(performance.now() - t).toBeGreaterThanOrEqual(25);
    expect(native!.wait(id, 0, 7, 0)).toBe(2);
  });

  for (const op of ["wait", "waitAsync"]) {
    it(`${op} in another process is woken by wake here`, async () => {
      const [buffer, id, fd] = native!.create(64);
      const i32 = new Int32Array(buffer);
      const { reply } = await inProcess(`/proc/${process.pid}/fd/${fd}`, 64, op, 20_000);
      await new Promise<void>((resolve) => native!.waitAsync(id, 4, 0, 10_000, () => resolve()));
      awaitFlag(id, i32, 1);
      Atomics.store(i32, 0, 1);
      native!.wake(id, 0, 1);
      const m = await reply;
      expect(m.value).toBe(1);
      expect([0, 1]).toContain(m.result);
    });
    it(`${op} in a worker thread is woken by wake here`, async () => {
      const [buffer, id, fd] = native!.create(64);
      const i32 = new Int32Array(buffer);
      const { reply } = inThread(`/proc/self/fd/${fd}`, 64, op, 20_000);
      await new Promise<void>((resolve) => native!.waitAsync(id, 4, 0, 10_000, () => resolve()));
      Atomics.store(i32, 0, 1);
      native!.wake(id, 0, 1);
      const m = await reply;
      expect(m.value).toBe(1);
    });
  }

  it("waitAsync: not-equal, timed-out, and many pending at once", async () => {
    const [buffer, id] = native!.create(64);
    const i32 = new Int32Array(buffer);
    const r = (index: number, expected: number, ms: number) => new Promise<number>((resolve) => native!.waitAsync(id, index * 4, expected, ms, resolve));
    expect(await r(0, 5, 1000)).toBe(1);
    expect(await r(0, 0, 20)).toBe(2);
    const many = Array.from({ length: 16 }, (_, k) => r(k % 8, 0, 10_000));
    for (let k = 0; k < 8; k++) {
      Atomics.store(i32, k, 1);
      native!.wake(id, k * 4, Infinity);
    }
    const results = await Promise.all(many);
    expect(results.every((x) => x === 0 || x === 1)).toBe(true);
  });

  it("markThreadEnded marks this process's entries for that thread in @ipc party tables, and nothing else", () => {
    const TABLE = (4 + 4 * 256) * 4;
    const make = (magic: boolean) => {
      const [buffer] = native!.create(4096 + TABLE);
      const t = new Int32Array(buffer, 4096, TABLE / 4);
      t[0] = 256;
      if (magic) t[1] = 0x49504354;
      // entry 0: this process, thread 5; entry 1: thread 6; entry 2: another pid, thread 5
      t.set([1, process.pid, 5, 0], 4);
      t.set([1, process.pid, 6, 0], 8);
      t.set([1, process.pid + 1, 5, 0], 12);
      return t;
    };
    const table = make(true);
    const foreign = make(false);
    expect(native!.markThreadEnded(5)).toBeGreaterThanOrEqual(1);
    expect([table[7], table[11], table[15]]).toEqual([1, 0, 0]);
    expect(foreign[7]).toBe(0);
  });

  it("waitAsync: hundreds pending share a few waiter threads; wake(1) wakes one, a change of the word wakes all", async () => {
    const [buffer, id] = native!.create(64);
    const i32 = new Int32Array(buffer);
    const results: number[] = [];
    const all = Array.from({ length: 300 }, () => new Promise<number>((resolve) => native!.waitAsync(id, 0, 0, 20_000, (r) => (results.push(r), resolve(r)))));
    // the waits are handed to the waiter threads asynchronously: wait (bounded) until they sleep
    const threads = () => readdirSync("/proc/self/task").length;
    expect(threads()).toBeLessThan(60);
    let woken = 0;
    for (let tries = 0; woken === 0 && tries < 200; tries++) {
      woken = native!.wake(id, 0, 1);
      if (woken === 0) await new Promise((r) => setTimeout(r, 5));
    }
    expect(woken).toBe(1);
    const deadline = Date.now() + 10_000;
    while (results.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(results).toEqual([0]);
    Atomics.store(i32, 0, 1);
    native!.wake(id, 0, Infinity);
    const out = await Promise.all(all);
    expect(out.filter((r) => r === 0 || r === 1)).toHaveLength(300);
  });

  it("refuses bad ids, offsets, sizes and paths", () => {
    const [, id] = native!.create(64);
    expect(() => native!.wait(0, 0, 0, 0)).toThrow(/bad mapping id/);
    expect(() => native!.wait(id, 64, 0, 0)).toThrow(/bad mapping offset/);
    expect(() => native!.wake(id, 2, 1)).toThrow(/bad mapping offset/);
    expect(() => native!.create(0)).toThrow(/bad mapping size/);
    expect(() => native!.open("/nonexistent/ipc", 64)).toThrow(/open \/nonexistent\/ipc/);
    const [, , fd] = native!.create(64);
    expect(() => native!.open(`/proc/self/fd/${fd}`, 128)).toThrow(/not @ipc shared memory/);
    expect(() => native!.open(`/proc/self/fd/${fd}`, 32)).toThrow(/not @ipc shared memory/);
    expect(native!.open(`/proc/self/fd/${fd}`, 64)[0].byteLength).toBe(64);
  });

  it("maps only memory create() made: an ordinary file or a /proc path to one is refused and left untouched", () => {
    const dir = mkdtempSync(join(tmpdir(), "ipc-native-"));
    const file = join(dir, "victim");
    writeFileSync(file, Buffer.alloc(8192, 0x61));
    const fd = openSync(file, "r+");
    try {
      expect(() => native!.open(file, 8192)).toThrow(/not @ipc shared memory/);
      expect(() => native!.open(`/proc/self/fd/${fd}`, 8192)).toThrow(/not @ipc shared memory/);
      expect(() => native!.open("/dev/zero", 8192)).toThrow(/not @ipc shared memory/);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file).every((b) => b === 0x61)).toBe(true);
  });

  it("a mapping's size is sealed: no holder can shrink or grow it", () => {
    const [, , fd] = native!.create(4096);
    expect(() => ftruncateSync(fd, 0)).toThrow(/EPERM/);
    expect(() => ftruncateSync(fd, 8192)).toThrow(/EPERM/);
    expect(fstatSync(fd).size).toBe(4096);
  });
  it("allocUnsafe: own, exact-size plain ArrayBuffers that never overlap, of any size", () => {
    const sizes = [1, 4096, 256 * 1024, (1 << 20) + 13, 300_000, 3 * (1 << 20) + 5, 2 << 20];
    const arrays = sizes.map((n, k) => {
      const buffer = native!.allocUnsafe(n);
      expect(buffer).toBeInstanceOf(ArrayBuffer);
      expect(buffer.byteLength).toBe(n);
      return new Uint8Array(buffer).fill(k + 1);
    });
    // many more than a region holds, kept alive together: each still holds its own pattern
    for (let k = 0; k < 40; k++) arrays.push(new Uint8Array(native!.allocUnsafe(700_000)).fill(100 + k));
    arrays.forEach((a, k) => {
      const expected = k < sizes.length ? k + 1 : 100 + k - sizes.length;
      expect(a[0]).toBe(expected);
      expect(a[a.length - 1]).toBe(expected);
      expect(a.every((b) => b === expected)).toBe(true);
    });
  });

  it("allocUnsafe: a buffer can be transferred to a worker thread and cloned", async () => {
    const bytes = new Uint8Array(native!.allocUnsafe(1 << 20)).fill(7);
    const worker = new Worker(
      "const { parentPort } = require('node:worker_threads'); parentPort.once('message', (b) => { let s = 0; for (const x of new Uint8Array(b)) s += x; parentPort.postMessage(s); });",
      { eval: true },
    );
    try {
      const sum = once(worker, "message");
      worker.postMessage(bytes.buffer, [bytes.buffer]);
      expect(bytes.byteLength).toBe(0); // detached here
      expect((await sum)[0]).toBe(7 << 20);
    } finally {
      await worker.terminate();
    }
    const copy = structuredClone(new Uint8Array(native!.allocUnsafe(300_000)).fill(3));
    expect(copy.byteLength).toBe(300_000);
    expect(copy[299_999]).toBe(3);
  });

  it("handOver / adopt: a block crosses to a worker thread with one copy, adopted once", async () => {
    const ring = new SharedArrayBuffer(64);
    const source = new Uint8Array(700_000).map((_, i) => i % 251);
    const token = native!.handOver(source.subarray(100), ring);
    expect(token).toBeGreaterThan(0);
    expect(native!.isFiled(token)).toBe(true);
    expect(native!.regionStats().handed).toBe(1);
    source.fill(0); // the block holds its own copy
    const worker = new Worker(
      `const { native } = require(${JSON.stringify(new URL("../dist/index.cjs", import.meta.url).pathname)});
       const { parentPort, workerData } = require("node:worker_threads");
       const block = native.adopt(workerData.token);
       const bytes = new Uint8Array(block);
       let ok = block instanceof ArrayBuffer && bytes.length === 699_900;
       for (let i = 0; i < bytes.length && ok; i++) ok = bytes[i] === (i + 100) % 251;
       parentPort.postMessage({ ok, again: native.adopt(workerData.token) === undefined, ring: workerData.ring.byteLength });`,
      { eval: true, workerData: { token, ring } },
    );
    const [reply] = await once(worker, "message");
    await once(worker, "exit");
    expect(reply).toEqual({ ok: true, again: true, ring: 64 });
    expect(native!.isFiled(token)).toBe(false);
    expect(native!.adopt(token)).toBeUndefined();
    expect(native!.regionStats().handed).toBe(0);
    const next = native!.handOver(new Uint8Array(300_000), ring);
    expect(next).not.toBe(token);
    expect(native!.adopt(next)!.byteLength).toBe(300_000);
    expect(native!.adopt(native!.handOver(new Uint8Array(300_000), ring))!.byteLength).toBe(300_000);
  });

  it("handOver: a block never adopted is freed once its ring is garbage-collected; bad arguments throw", () => {
    const script = `const { native } = require(process.argv[1]);
      (function () { native.handOver(new Uint8Array(1 << 20), new SharedArrayBuffer(64)); })();
      const kept = new SharedArrayBuffer(64);
      native.handOver(new Uint8Array(1 << 20), kept);
      const before = native.regionStats().handed;
      // V8 releases the memory of collected buffers on a background sweeper: look again a few times
      (async () => {
        for (let i = 0; i < 200 && native.regionStats().handed > 1; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
        console.log(JSON.stringify([before, native.regionStats().handed, kept.byteLength]));
      })();`;
    const out = execFileSync(process.execPath, ["--expose-gc", "-e", script, new URL("../dist/index.cjs", import.meta.url).pathname], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([2, 1, 64]);
    expect(() => native!.handOver(new Uint8Array(8), new ArrayBuffer(8) as never)).toThrow(/expected a view and a SharedArrayBuffer/);
    expect(() => native!.handOver([1, 2] as never, new SharedArrayBuffer(8))).toThrow(/expected a view/);
    expect(() => native!.handOver(new Uint8Array(0), new SharedArrayBuffer(8))).toThrow(/empty message/);
    expect(native!.adopt(0)).toBeUndefined();
    expect(native!.isFiled(0)).toBe(false);
    // takeInto: copied into a view of exactly the block's length, then freed at once
    const ring = new SharedArrayBuffer(8);
    const filed = native!.regionStats().handed;
    const token = native!.handOver(new Uint8Array(300_000).fill(9), ring);
    expect(() => native!.takeInto(token, new Uint8Array(299_999))).toThrow(/not the block's length/);
    expect(() => native!.takeInto(token, "x" as never)).toThrow(/expected a view/);
    const target = new Uint8Array(300_010);
    expect(native!.takeInto(token, target.subarray(10))).toBe(true);
    expect(target[9]).toBe(0);
    expect(target[10]).toBe(9);
    expect(target[300_009]).toBe(9);
    expect(native!.takeInto(token, target.subarray(10))).toBe(false);
    expect(native!.regionStats().handed).toBe(filed);
  });

  it("allocUnsafe: freed regions are kept for reuse, then unmapped within about a second", async () => {
    // a worker's buffers are all freed when it ends, so its regions come back at once
    const worker = new Worker(
      `const { native } = require(${JSON.stringify(new URL("../dist/index.cjs", import.meta.url).pathname)});
       const keep = []; for (let i = 0; i < 20; i++) keep.push(new Uint8Array(native.allocUnsafe(1 << 20)).fill(1));
       require("node:worker_threads").parentPort.postMessage(native.regionStats());`,
      { eval: true },
    );
    const [{ mapped, maps }] = await once(worker, "message");
    expect(mapped).toBeGreaterThanOrEqual(20 * (2 << 20));
    expect(maps).toBeGreaterThanOrEqual(10); // two 1 MiB buffers to a 2 MiB region
    await once(worker, "exit");
    expect(native!.regionStats().kept).toBeGreaterThan(0);
    const end = Date.now() + 10_000;
    while (native!.regionStats().kept > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(native!.regionStats().kept).toBe(0);
  });

  it("a process whose regions are decaying still exits at once", async () => {
    const script = `const { Worker } = require("node:worker_threads");
      const w = new Worker(\`const { native } = require(\${JSON.stringify(process.argv[1])}); for (let i = 0; i < 8; i++) native.allocUnsafe(1 << 20);\`, { eval: true });
      w.on("exit", () => { const { native } = require(process.argv[1]); console.log(native.regionStats().kept > 0 ? "kept" : "none"); });`;
    const child = spawn(process.execPath, ["-e", script, new URL("../dist/index.cjs", import.meta.url).pathname], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const started = Date.now();
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    expect(out.trim()).toBe("kept");
    expect(Date.now() - started).toBeLessThan(900); // not held until the regions decay (1 s)
  });

  it("a worker that alone loaded the addon exits cleanly (the addon is never unloaded)", async () => {
    const script = `const { Worker } = require("node:worker_threads");
      new Worker(\`const { native } = require(\${JSON.stringify(process.argv[1])}); native.create(4096); native.allocUnsafe(1 << 20);\`, { eval: true })
        .on("exit", () => console.log("worker ended"));`;
    const child = spawn(process.execPath, ["-e", script, new URL("../dist/index.cjs", import.meta.url).pathname], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const [code, signal] = await once(child, "exit");
    expect({ code, signal, out: out.trim() }).toEqual({ code: 0, signal: null, out: "worker ended" });
  });

  it("allocUnsafe refuses bad sizes", () => {
    for (const n of [0, -1, 1.5, Number.NaN, 2 ** 50]) expect(() => native!.allocUnsafe(n), String(n)).toThrow(/bad buffer size/);
  });
});

// The @ipc side of each bench case; every function returns one measurement in the case's unit.
import { execFileSync } from "node:child_process";
import v8 from "node:v8";
import { Packr } from "msgpackr";
import { Barrier, deserialize, Event, Lock, nativeAvailable, Semaphore, serialize } from "@ipc/core";
import { Process } from "@ipc/process";
import { JoinableQueue, Queue } from "@ipc/queue";
import { Pool } from "@ipc/pool";
import { SharedArray, SharedMemory, Value } from "@ipc/shared";
import { Manager } from "@ipc/manager";
import { Pipe } from "@ipc/pipe";
import Piscina from "piscina";

const poolTasks = new URL("./pool-tasks.mjs", import.meta.url);
let ipcPool;
let piscina;
async function warmPools() {
  if (!ipcPool) {
    ipcPool = new Pool({ module: poolTasks, processes: 2 });
    // let the workers' JIT warm up, as a long-lived pool's has
    const warm = Array.from({ length: 100_000 }, (_, i) => i);
    for (let i = 0; i < 3; i++) await ipcPool.map("square", warm);
  }
  if (!piscina) {
    piscina = new Piscina({ filename: poolTasks.href, minThreads: 2, maxThreads: 2 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => piscina.run(i)));
  }
  return { ipcPool, piscina };
}
/** Milliseconds a start-up step took in a fresh node process (cases/startup.mjs). */
function freshProcess(what) {
  return Number(execFileSync(process.execPath, [new URL("./startup.mjs", import.meta.url).pathname, what], { encoding: "utf8" }).trim());
}

/** A fresh pool, one small call (its workers are up), then `run(pool)` timed: its first real work. */
async function coldIpc(run) {
  const p = new Pool({ module: poolTasks, processes: 2 });
  await p.apply("square", [1]);
  const t0 = performance.now();
  const n = await run(p);
  const rate = rateOf(n, t0);
  await p.terminate();
  return rate;
}
async function coldPiscina(run) {
  const p = new Piscina({ filename: poolTasks.href, minThreads: 2, maxThreads: 2 });
  await p.run(1);
  const t0 = performance.now();
  const n = await run(p);
  const rate = rateOf(n, t0);
  await p.destroy();
  return rate;
}
const range = (n) => Array.from({ length: n }, (_, i) => i);
function rateOf(n, t0) {
  return (n / (performance.now() - t0)) * 1000;
}

const workers = new URL("./workers.mjs", import.meta.url).href;
const queueWorkers = new URL("./queue-workers.mjs", import.meta.url).href;

/**
 * n items from `producers` to `consumers` children, timed from "go" (every party started and
 * waiting) to the last item taken. n is chosen so a case runs about as long as its CPython
 * counterpart (~0.3 s): shorter runs mostly measure the JIT warming up.
 */
async function queueCase(context, payload, n, producers = 1, consumers = 1) {
  const q = new Queue();
  const ready = new Semaphore(0);
  const done = new Semaphore(0);
  const go = new Event();
  const ps = Array.from({ length: producers }, () => new Process({ module: queueWorkers, target: "produce", args: [q, n / producers, payload, ready, go], context }));
  const cs = Array.from({ length: consumers }, () => new Process({ module: queueWorkers, target: "consume", args: [q, n / consumers, done, ready, go], context }));
  for (const p of [...ps, ...cs]) p.start();
  for (let i = 0; i < producers + consumers; i++) await ready.acquire();
  const t0 = performance.now();
  go.set();
  for (let i = 0; i < consumers; i++) await done.acquire();
  const rate = (n / (performance.now() - t0)) * 1000;
  for (const p of [...ps, ...cs]) await p.join();
  return rate;
}
const pipeWorkers = new URL("./pipe-workers.mjs", import.meta.url).href;

/** n messages from a child in `context` through a one-way Pipe, timed from "go" to the last receive. */
async function pipeCase(context, payload, n, sync, { ringSize, into } = {}) {
  const [reader, writer] = Pipe({ duplex: false, ringSize });
  const buf = new Uint8Array(1 << 20);
  const ready = new Semaphore(0);
  const go = new Event();
  const p = new Process({ module: pipeWorkers, target: "pipeSend", args: [writer, n, payload, ready, go], context });
  p.start();
  writer.close();
  await ready.acquire();
  const t0 = performance.now();
  go.set();
  if (payload === "1m" && into) for (let i = 0; i < n; i++) sync ? reader.recvBytesIntoSync(buf) : await reader.recvBytesInto(buf);
  else if (payload === "1m") for (let i = 0; i < n; i++) sync ? reader.recvBytesSync() : await reader.recvBytes();
  else if (sync) for (let i = 0; i < n; i++) reader.recvSync();
  else for (let i = 0; i < n; i++) await reader.recv();
  const rate = (n / (performance.now() - t0)) * 1000;
  await p.join();
  reader.close();
  return rate;
}

/**
 * Mean round trip (µs) of a small object to an echoing child: `sync` uses sendSync + recvSync here;
 * otherwise send + await recv, against a sync echo (`echo`) or an async one (`echoAsync`), after
 * `warm` untimed round trips.
 */
async function pipeRoundTrip(sync, { context = "thread", echo = "echo", warm = 1 } = {}) {
  const [a, b] = Pipe();
  const p = new Process({ module: pipeWorkers, target: echo, args: [b], context });
  p.start();
  b.close();
  const item = { id: 1, op: "put" };
  for (let i = 0; i < warm; i++) {
    a.send(item);
    await a.recv();
  }
  const n = 10_000;
  const t0 = performance.now();
  if (sync) {
    for (let i = 0; i < n; i++) {
      a.sendSync(item);
      a.recvSync();
    }
  } else {
    for (let i = 0; i < n; i++) {
      a.send(item);
      await a.recv();
    }
  }
  const us = ((performance.now() - t0) / n) * 1000;
  a.send(null);
  await p.join();
  a.close();
  return us;
}

/** Async on both ends: a `context` child awaits `put`, the main thread awaits `get` (or `for await`). */
/** RSS of the consuming (main) thread's process at the start and end of cases that stream large items. */
export const memoryNotes = [];

async function queueAsyncCase(context, n, forAwait, payload = "obj") {
  const q = new Queue();
  const ready = new Semaphore(0);
  const go = new Event();
  const p = new Process({ module: queueWorkers, target: "produceAsync", args: [q, n, payload, ready, go], context });
  p.start();
  await ready.acquire();
  const rss0 = process.memoryUsage.rss();
  const t0 = performance.now();
  go.set();
  if (forAwait) {
    let i = 0;
    for await (const _ of q) if (++i === n) break;
  } else for (let i = 0; i < n; i++) await q.get();
  const rate = (n / (performance.now() - t0)) * 1000;
  if (payload === "1m") memoryNotes.push({ case: `queue_1m ${context} await put → await get`, items: n, rssStartMiB: rss0 / 2 ** 20, rssEndMiB: process.memoryUsage.rss() / 2 ** 20 });
  await p.join();
  return rate;
}

/** A `context` child `send`s (the async API), the main thread reads with `for await`. */
async function pipeForAwaitCase(context, n) {
  const [reader, writer] = Pipe({ duplex: false });
  const ready = new Semaphore(0);
  const go = new Event();
  const p = new Process({ module: pipeWorkers, target: "pipeSendAsync", args: [writer, n, ready, go], context });
  p.start();
  writer.close();
  await ready.acquire();
  const t0 = performance.now();
  go.set();
  let i = 0;
  for await (const _ of reader) if (++i === n) break;
  const rate = (n / (performance.now() - t0)) * 1000;
  await p.join();
  reader.close();
  return rate;
}

/** The main thread `await put()`s, a `context` child `await get()`s. */
async function queueAsyncToChildCase(context, n) {
  const q = new Queue();
  const ready = new Semaphore(0);
  const done = new Semaphore(0);
  const go = new Event();
  const p = new Process({ module: queueWorkers, target: "consumeAsync", args: [q, n, ready, go, done], context });
  p.start();
  await ready.acquire();
  const item = { id: 1, op: "put" };
  const t0 = performance.now();
  go.set();
  for (let i = 0; i < n; i++) await q.put(item);
  await done.acquire();
  const rate = (n / (performance.now() - t0)) * 1000;
  await p.join();
  return rate;
}

/** Main thread `send`s, a `context` child `await recv()`s (after `warm` untimed messages). */
async function pipeAsyncRecvCase(context, n, warm = 0) {
  const [reader, writer] = Pipe({ duplex: false });
  const ready = new Semaphore(0);
  const done = new Semaphore(0);
  const go = new Event();
  const p = new Process({ module: pipeWorkers, target: "pipeRecvAsync", args: [reader, n, ready, go, done, warm], context });
  p.start();
  reader.close();
  const item = { id: 1, op: "put" };
  for (let i = 0; i < warm; i++) await writer.send(item);
  await ready.acquire();
  const t0 = performance.now();
  go.set();
  for (let i = 0; i < n; i++) await writer.send(item);
  await done.acquire();
  const rate = (n / (performance.now() - t0)) * 1000;
  await p.join();
  writer.close();
  return rate;
}


const packr = new Packr({ useRecords: true });
const kib = new Uint8Array(1024);
/** A large value: 10,000 small records and a 1 MiB byte array. */
const big = { rows: Array.from({ length: 10_000 }, (_, i) => ({ id: i, op: "put", name: `item-${i}` })), blob: new Uint8Array(1 << 20) };

function rate(n, fn) {
  const t0 = performance.now();
  fn(n);
  return (n / (performance.now() - t0)) * 1000;
}

export const cases = {
  codec_small: {
    unit: "ops/s",
    variants: {
      "@ipc codec": () => rate(200_000, (n) => { for (let i = 0; i < n; i++) deserialize(serialize({ id: i, op: "put" })); }),
      "v8.serialize": () => rate(200_000, (n) => { for (let i = 0; i < n; i++) v8.deserialize(v8.serialize({ id: i, op: "put" })); }),
      "msgpackr records": () => rate(200_000, (n) => { for (let i = 0; i < n; i++) packr.unpack(packr.pack({ id: i, op: "put" })); }),
    },
  },
  codec_1k: {
    unit: "ops/s",
    variants: {
      "@ipc codec": () => rate(200_000, (n) => { for (let i = 0; i < n; i++) deserialize(serialize(kib)); }),
      "v8.serialize": () => rate(200_000, (n) => { for (let i = 0; i < n; i++) v8.deserialize(v8.serialize(kib)); }),
      "msgpackr records": () => rate(200_000, (n) => { for (let i = 0; i < n; i++) packr.unpack(packr.pack(kib)); }),
    },
  },
  codec_large: {
    unit: "ops/s",
    variants: {
      "@ipc codec": () => rate(200, (n) => { for (let i = 0; i < n; i++) deserialize(serialize(big)); }),
      "v8.serialize": () => rate(200, (n) => { for (let i = 0; i < n; i++) v8.deserialize(v8.serialize(big)); }),
      "msgpackr records": () => rate(200, (n) => { for (let i = 0; i < n; i++) packr.unpack(packr.pack(big)); }),
    },
  },
  lock_uncontended: {
    unit: "ops/s",
    variants: {
      "Lock acquireSync/release": () => {
        const l = new Lock();
        return rate(1_000_000, (n) => { for (let i = 0; i < n; i++) { l.acquireSync(); l.release(); } });
      },
      "Lock await acquire/release": async () => {
        const l = new Lock();
        const n = 300_000;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) { await l.acquire(); l.release(); }
        return (n / (performance.now() - t0)) * 1000;
      },
    },
  },
  counter_2proc: {
    unit: "ops/s",
    variants: {
      "2 threads, Lock + SAB counter": async () => {
        const n = 1_000_000;
        const counter = new Int32Array(new SharedArrayBuffer(4));
        const spans = new Float64Array(new SharedArrayBuffer(32));
        const lock = new Lock();
        const barrier = new Barrier(2);
        const ps = [0, 1].map((slot) => new Process({ module: workers, target: "incrementUnderLock", args: [counter, lock, barrier, n, spans, slot] }));
        for (const p of ps) p.start();
        for (const p of ps) await p.join();
        if (counter[0] !== 2 * n) throw new Error(`lost updates: ${counter[0]}`);
        return (2 * n) / ((Math.max(spans[1], spans[3]) - Math.min(spans[0], spans[2])) / 1000);
      },
    },
  },
  counter_value: {
    unit: "ops/s",
    variants: Object.fromEntries(
      ["thread", "process"].map((context) => [
        `2 ${context === "thread" ? "threads" : "processes"}, @ipc/shared Value('i') += 1 under withLockSync`,
        async () => {
          // shared memory with @ipc/native; one broker round trip per access without it
          // the figure: 2 × 1,000,000, as CPython's counterpart
          const n = context === "process" && !nativeAvailable() ? 500 : 1_000_000;
          const v = new Value("i", 0);
          const spans = new SharedArray("d", 4, { lock: false });
          const barrier = new Barrier(2);
          const ps = [0, 1].map((slot) => new Process({ module: workers, target: "incrementValue", args: [v, barrier, n, spans, slot], context }));
          for (const p of ps) p.start();
          for (const p of ps) await p.join();
          if (v.value !== 2 * n) throw new Error(`lost updates: ${v.value}`);
          const t = spans.toArray();
          return (2 * n) / ((Math.max(t[1], t[3]) - Math.min(t[0], t[2])) / 1000);
        },
      ]),
    ),
  },
  manager_dict: {
    unit: "ops/s",
    variants: {
      "Manager().dict(): set + get from a process child, sequential": async () => {
        const m = await Manager();
        const d = await m.dict();
        const out = new Value("d", 0);
        const p = new Process({ module: workers, target: "managerDictLoop", args: [d, 5000, out], context: "process" });
        p.start();
        await p.join();
        await m.shutdown();
        return out.value;
      },
      "Manager().dict(): 1,000 concurrent sets from one client (Promise.all)": async () => {
        const m = await Manager();
        const d = await m.dict();
        await d.set("warm", 1);
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 1000 }, (_, i) => d.set(i, i)));
        const rate = rateOf(1000, t0);
        await m.shutdown();
        return rate;
      },
    },
  },
  manager_start: {
    unit: "ms",
    variants: {
      "await Manager() to a dict's first reply": async () => {
        const t0 = performance.now();
        const m = await Manager();
        const d = await m.dict();
        await d.set("x", 1);
        const ms = performance.now() - t0;
        await m.shutdown();
        return ms;
      },
    },
  },
  array_fill_sum: {
    unit: "ops/s",
    variants: {
      "SharedArray('d', 1M) filled through raw by a process child, summed through raw by the parent": async () => {
        const n = 1_000_000;
        const arr = new SharedArray("d", n);
        const fill = new Value("d", 0);
        const p = new Process({ module: workers, target: "fillRaw", args: [arr, fill], context: "process" });
        p.start();
        await p.join();
        const t0 = performance.now();
        const raw = arr.raw;
        let total = 0;
        for (let i = 0; i < raw.length; i++) total += raw[i];
        const sum = performance.now() - t0;
        if (total !== (n * (n - 1)) / 2) throw new Error(`wrong sum ${total}`);
        return n / ((fill.value + sum) / 1000);
      },
    },
  },
  array_sum_api: {
    unit: "ops/s",
    variants: {
      "sum of SharedArray('d', 1M) by for...of (one snapshot under the lock)": () => {
        const n = 1_000_000;
        const arr = new SharedArray("d", Array.from({ length: n }, (_, i) => i));
        const t0 = performance.now();
        let total = 0;
        for (const x of arr) total += x;
        const rate = rateOf(n, t0);
        if (total !== (n * (n - 1)) / 2) throw new Error(`wrong sum ${total}`);
        return rate;
      },
      "sum of SharedArray('d', 1M) by get(i) (the lock taken per element, as Python's sum)": () => {
        const n = 1_000_000;
        const arr = new SharedArray("d", Array.from({ length: n }, (_, i) => i));
        const t0 = performance.now();
        let total = 0;
        for (let i = 0; i < n; i++) total += arr.get(i);
        const rate = rateOf(n, t0);
        if (total !== (n * (n - 1)) / 2) throw new Error(`wrong sum ${total}`);
        return rate;
      },
    },
  },
  pipe_create: {
    unit: "ops/s",
    variants: {
      "Pipe(): make one, close both ends": () => {
        const n = 5000;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          const [a, b] = Pipe();
          a.close();
          b.close();
        }
        return (n / (performance.now() - t0)) * 1000;
      },
    },
  },
  shm_create_attach: {
    unit: "ops/s",
    variants: {
      "SharedMemory 1 MiB: create, attach by name, close both, unlink": () => {
        const n = 2000;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          const a = new SharedMemory({ create: true, size: 1 << 20 });
          const b = new SharedMemory({ name: a.name });
          b.close();
          a.close();
          a.unlink();
        }
        return rateOf(n, t0);
      },
    },
  },
  lock_remote: {
    unit: "ops/s",
    variants: Object.fromEntries(
      ["remoteLockLoop", "remoteLockLoopSync"].map((target) => [
        `Lock ${target.endsWith("Sync") ? "acquireSync" : "await acquire"}/release in a process child`,
        async () => {
          // shared memory with @ipc/native; one broker round trip per call without it (IPC_NATIVE=0)
          const n = nativeAvailable() ? 2_000_000 : 2000;
          const [lock, ready, go, done] = [new Lock(), new Event(), new Event(), new Event()];
          const p = new Process({ module: workers, target, args: [lock, n, ready, go, done], context: "process" });
          p.start();
          await ready.wait();
          const t0 = performance.now();
          go.set();
          await done.wait();
          const rate = (n / (performance.now() - t0)) * 1000;
          await p.join();
          return rate;
        },
      ]),
    ),
  },
  pipe_small: {
    unit: "ops/s",
    variants: {
      "Pipe one-way, thread → main, {id, op}, recvSync": () => pipeCase("thread", "obj", 300_000, true),
      "Pipe one-way, thread → main, {id, op}, await recv": () => pipeCase("thread", "obj", 300_000, false),
    },
  },
  pipe_process: {
    unit: "ops/s",
    variants: {
      "Pipe one-way, process → main, {id, op}, recvSync": () => pipeCase("process", "obj", 300_000, true),
      "Pipe one-way, process → main, {id, op}, await recv": () => pipeCase("process", "obj", 300_000, false),
    },
  },
  pipe_1m: {
    unit: "ops/s",
    variants: {
      "Pipe sendBytesSync 1 MiB, thread → main, await recvBytes": () => pipeCase("thread", "1m", 1_000, false),
      "same, ringSize 8 MiB, await recvBytes": () => pipeCase("thread", "1m", 2_000, false, { ringSize: 8 << 20 }),
      "same, ringSize 8 MiB, recvBytesIntoSync (one reused buffer)": () => pipeCase("thread", "1m", 2_000, true, { ringSize: 8 << 20, into: true }),
    },
  },
  pipe_rtt: {
    unit: "us",
    variants: {
      "Pipe round trip to a thread, sendSync + recvSync": () => pipeRoundTrip(true),
      "Pipe round trip to a thread, send + await recv": () => pipeRoundTrip(false),
    },
  },
  queue_small: {
    unit: "ops/s",
    variants: {
      "Queue 1 → 1 threads, number": () => queueCase("thread", "int", 600_000),
      "Queue 1 → 1 processes, number": () => queueCase("process", "int", 600_000),
    },
  },
  queue_async: {
    unit: "ops/s",
    variants: {
      "Queue, thread child await put → main await get, {id, op}": () => queueAsyncCase("thread", 200_000, false),
      "Queue, thread child await put → main for await, {id, op}": () => queueAsyncCase("thread", 200_000, true),
      "Queue, process child await put → main await get, {id, op}": () => queueAsyncCase("process", 200_000, false),
      "Queue, main await put → thread child await get, {id, op}": () => queueAsyncToChildCase("thread", 200_000),
      "Queue, main await put → process child await get, {id, op}": () => queueAsyncToChildCase("process", 200_000),
    },
  },
  pipe_async: {
    unit: "ops/s",
    variants: {
      "Pipe one-way, main send → thread child await recv, {id, op}": () => pipeAsyncRecvCase("thread", 300_000),
      "Pipe one-way, main send → process child await recv, {id, op}": () => pipeAsyncRecvCase("process", 300_000),
      "Pipe one-way, thread child send → main for await, {id, op}": () => pipeForAwaitCase("thread", 300_000),
      "Pipe one-way, process child send → main for await, {id, op}": () => pipeForAwaitCase("process", 300_000),
      // a fresh child runs its first ~50,000 messages while V8 optimizes its code (60-90 ms of the
      // ~200 ms above: docs/benchmarks.md); these time 300,000 after 50,000 untimed
      "Pipe one-way, main send → thread child await recv, {id, op}, warm": () => pipeAsyncRecvCase("thread", 300_000, 50_000),
      "Pipe one-way, main send → process child await recv, {id, op}, warm": () => pipeAsyncRecvCase("process", 300_000, 50_000),
    },
  },
  pipe_rtt_async: {
    unit: "us",
    variants: {
      "Pipe round trip, send + await recv on both ends, thread child": () => pipeRoundTrip(false, { context: "thread", echo: "echoAsync" }),
      "Pipe round trip, send + await recv on both ends, process child": () => pipeRoundTrip(false, { context: "process", echo: "echoAsync" }),
      // V8 optimizes a fresh child's code during its first few thousand round trips (most of the
      // slow ones above: docs/benchmarks.md); these time 10,000 after 5,000 untimed
      "Pipe round trip, send + await recv on both ends, thread child, warm": () => pipeRoundTrip(false, { context: "thread", echo: "echoAsync", warm: 5_000 }),
      "Pipe round trip, send + await recv on both ends, process child, warm": () => pipeRoundTrip(false, { context: "process", echo: "echoAsync", warm: 5_000 }),
    },
  },
  queue_obj: {
    unit: "ops/s",
    variants: {
      "Queue 1 → 1 threads, {id, op}": () => queueCase("thread", "obj", 400_000),
      "Queue 1 → 1 processes, {id, op}": () => queueCase("process", "obj", 400_000),
    },
  },
  queue_1k: { unit: "ops/s", variants: { "Queue 1 → 1 threads, 1 KiB": () => queueCase("thread", "1k", 300_000) } },
  queue_1m: {
    unit: "ops/s",
    variants: {
      "Queue 1 → 1 threads, 1 MiB": () => queueCase("thread", "1m", 1_000),
      "Queue, thread child await put (one buffer reused) → main await get, 1 MiB": () => queueAsyncCase("thread", 2_000, false, "1m"),
      "Queue, process child await put (one buffer reused) → main await get, 1 MiB": () => queueAsyncCase("process", 2_000, false, "1m"),
    },
  },
  queue_2to2: {
    unit: "ops/s",
    variants: {
      "Queue 2 → 2 threads, number": () => queueCase("thread", "int", 600_000, 2, 2),
      "Queue 2 → 2 processes, number": () => queueCase("process", "int", 600_000, 2, 2),
    },
  },
  joinable: {
    unit: "ops/s",
    variants: {
      "JoinableQueue put + taskDone (thread worker) + join": async () => {
        const q = new JoinableQueue();
        const w = new Process({ module: queueWorkers, target: "taskWorker", args: [q], daemon: true });
        w.start();
        await q.put(0);
        await q.join();
        const n = 100_000;
        const t0 = performance.now();
        for (let i = 0; i < n; i++) q.putSync(i);
        await q.join();
        const rate = (n / (performance.now() - t0)) * 1000;
        w.terminate();
        await w.join();
        return rate;
      },
    },
  },
  pool_apply_async: {
    unit: "ops/s",
    variants: {
      "Pool(2).applyAsync × 10k, threads": async () => {
        const { ipcPool: p } = await warmPools();
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 10_000 }, (_, i) => p.applyAsync("square", [i]).get()));
        return rateOf(10_000, t0);
      },
      "piscina.run × 10k, 2 threads": async () => {
        const { piscina: p } = await warmPools();
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 10_000 }, (_, i) => p.run(i)));
        return rateOf(10_000, t0);
      },
    },
  },
  pool_imap_unordered: {
    unit: "ops/s",
    variants: {
      "Pool(2).imapUnordered over 100k (chunkSize 1)": async () => {
        const { ipcPool: p } = await warmPools();
        const t0 = performance.now();
        let sum = 0;
        for await (const v of p.imapUnordered("square", Array.from({ length: 100_000 }, (_, i) => i))) sum += v;
        return rateOf(100_000, t0);
      },
      "piscina.run × 100k, 2 threads": async () => {
        const { piscina: p } = await warmPools();
        const t0 = performance.now();
        await Promise.all(Array.from({ length: 100_000 }, (_, i) => p.run(i)));
        return rateOf(100_000, t0);
      },
    },
  },
  pool_map: {
    unit: "ops/s",
    variants: {
      "Pool(2).map over 100k, default chunking": async () => {
        const { ipcPool: p } = await warmPools();
        // the input exists before timing starts, as Python's range(100_000) does
        const items = Array.from({ length: 100_000 }, (_, i) => i);
        const t0 = performance.now();
        await p.map("square", items);
        return rateOf(100_000, t0);
      },
    },
  },
  pool_apply_async_cold: {
    unit: "ops/s",
    variants: {
      "fresh Pool(2): applyAsync × 10k, threads": () => coldIpc(async (p) => (await Promise.all(range(10_000).map((i) => p.applyAsync("square", [i]).get()))).length),
      "fresh piscina: run × 10k, 2 threads": () => coldPiscina(async (p) => (await Promise.all(range(10_000).map((i) => p.run(i)))).length),
    },
  },
  pool_imap_unordered_cold: {
    unit: "ops/s",
    variants: {
      "fresh Pool(2): imapUnordered over 100k (chunkSize 1)": () =>
        coldIpc(async (p) => {
          let n = 0;
          for await (const v of p.imapUnordered("square", range(100_000))) n += v >= 0 ? 1 : 0;
          return n;
        }),
      "fresh piscina: run × 100k, 2 threads": () => coldPiscina(async (p) => (await Promise.all(range(100_000).map((i) => p.run(i)))).length),
    },
  },
  pool_map_cold: {
    unit: "ops/s",
    variants: {
      "fresh Pool(2): map over 100k, default chunking": () => {
        const items = range(100_000);
        return coldIpc(async (p) => (await p.map("square", items)).length);
      },
    },
  },
  pool_startup_fresh: {
    unit: "ms",
    variants: {
      "new Pool(2) to first result, fresh node process": () => freshProcess("ipc-pool"),
      "new Piscina(2 threads) to first result, fresh node process": () => freshProcess("piscina"),
    },
  },
  start_thread_fresh: {
    unit: "ms",
    variants: {
      "Process thread: start to first message, fresh node process": () => freshProcess("ipc-thread"),
      "empty Worker to first message (Node's floor), fresh node process": () => freshProcess("empty-worker"),
    },
  },
  start_process_fresh: {
    unit: "ms",
    variants: {
      "Process process: start to first message, fresh node process": () => freshProcess("ipc-process"),
      "empty fork() to first message (Node's floor), fresh node process": () => freshProcess("empty-fork"),
    },
  },
  pool_startup: {
    unit: "ms",
    variants: {
      "new Pool(2) to first result": async () => {
        const t0 = performance.now();
        const p = new Pool({ module: poolTasks, processes: 2 });
        await p.apply("square", [3]);
        const ms = performance.now() - t0;
        await p.terminate();
        return ms;
      },
      "new Piscina(2 threads) to first result": async () => {
        const t0 = performance.now();
        const p = new Piscina({ filename: poolTasks.href, minThreads: 2, maxThreads: 2 });
        await p.run(3);
        const ms = performance.now() - t0;
        await p.destroy();
        return ms;
      },
    },
  },
  start_thread: {
    unit: "ms",
    variants: {
      "Process thread: start to first message": async () => {
        const ready = new Event();
        const t0 = performance.now();
        const p = new Process({ module: workers, target: "hello", args: [ready], context: "thread" });
        p.start();
        await ready.wait();
        const ms = performance.now() - t0;
        await p.join();
        return ms;
      },
    },
  },
  start_process: {
    unit: "ms",
    variants: {
      "Process process: start to first message": async () => {
        const ready = new Event();
        const t0 = performance.now();
        const p = new Process({ module: workers, target: "hello", args: [ready], context: "process" });
        p.start();
        await ready.wait();
        const ms = performance.now() - t0;
        await p.join();
        return ms;
      },
    },
  },
};

/** The warm pools the pool cases share (the runner ends them). */
export function pools() {
  return { ipcPool, piscina };
}

import { describe, expect, it } from "vitest";
import { EmptyError, Event, nativeAvailable } from "@ipc/core";
import { robustHolder } from "@ipc/core/internal";
// the ring header's word indexes (not exported by @ipc/core: this test inspects a queue's words)
import { CONSUMERS, HEAD_LOCK, PRODUCERS, TAIL_LOCK } from "../../core/src/ring/ring-words.js";
import { Process } from "@ipc/process";
import { Queue } from "@ipc/queue";

const workers = new URL("./fixtures/workers.mjs", import.meta.url).href;

function start(target: string, args: unknown[], context: "thread" | "process"): Process {
  const p = new Process({ module: workers, target, args, context });
  p.start();
  return p;
}

/** Waits (bounded) until `pred()` holds, yielding to the event loop between checks. */
async function until(pred: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setImmediate(r));
  }
}

describe("many producers and consumers", () => {
  it("4 producers → 4 consumers (2 threads + 2 processes each side), 100,000 items, each exactly once", async () => {
    const N = 100_000;
    const q = new Queue<number | null>({ maxSize: 1000 });
    const results = new Queue<number[]>();
    const seen = new Int32Array(new SharedArrayBuffer(4 * N));
    const share = N / 4;
    // the process producers each send a smaller share: every put of theirs is a round trip to this process's broker
    const procShare = 5_000;
    const threadShare = (N - 2 * procShare) / 2;
    const producers = [
      start("produceSync", [q, 0, threadShare], "thread"),
      start("produceSync", [q, threadShare, threadShare], "thread"),
      start("producePipelined", [q, 2 * threadShare, procShare], "process"),
      start("producePipelined", [q, 2 * threadShare + procShare, procShare], "process"),
    ];
    expect(share).toBe(25_000);
    const consumers = [
      start("countSync", [q, seen], "thread"),
      start("countSync", [q, seen], "thread"),
      start("collect", [q, results], "process"),
      start("collect", [q, results], "process"),
    ];
    for (const p of producers) await p.join({ timeout: 120_000 });
    expect(producers.map((p) => p.exitCode)).toEqual([0, 0, 0, 0]);
    for (let i = 0; i < 4; i++) await q.put(null);
    const collected = [await results.get({ timeout: 60_000 }), await results.get({ timeout: 60_000 })];
    for (const c of consumers) await c.join({ timeout: 60_000 });
    expect(consumers.map((p) => p.exitCode)).toEqual([0, 0, 0, 0]);
    for (const list of collected) for (const v of list) Atomics.add(seen, v, 1);
    let missing = 0;
    let duplicated = 0;
    for (let i = 0; i < N; i++) {
      if (seen[i] === 0) missing++;
      if (seen[i]! > 1) duplicated++;
    }
    expect({ missing, duplicated }).toEqual({ missing: 0, duplicated: 0 });
    expect(q.empty()).toBe(true);
  }, 180_000);
});

describe("terminated producers and consumers", () => {
  it("50 consumer and 5 producer terminations during a stream never wedge the queue; nothing is duplicated", async () => {
    const N = 60_000;
    const q = new Queue<number>({ maxSize: 256, ringSize: 1 << 14 });
    const seen = new Int32Array(new SharedArrayBuffer(4 * N));
    const put = new Int32Array(new SharedArrayBuffer(4 * N));
    const total = () => seen.reduce((a, b) => a + b, 0);
    // a steady producer, plus short-lived ones that get terminated
    const steady = start("produceRecorded", [q, put, 0, N / 2, new Event()], "thread");
    const killedProducers: Process[] = [];
    for (let k = 0; k < 5; k++) {
      const started = new Event();
      const p = start("produceRecorded", [q, put, N / 2 + k * (N / 10), N / 10, started], "thread");
      killedProducers.push(p);
    }
    let kills = 0;
    for (let k = 0; k < 50; k++) {
      const started = new Event();
      const before = total();
      const c = start("countForever", [q, seen, started], "thread");
      expect(await started.wait({ timeout: 20_000 })).toBe(true);
      // let it take some items, then terminate it at whatever point it has reached (a consumer
      // can take thousands while its termination takes effect: once the steady producer has
      // finished and the queue is empty, there is nothing left to take, and that is no wedge)
      await until(() => total() > before + 20 || (steady.exitCode !== null && q.qsize() === 0));
      c.terminate();
      await c.join({ timeout: 20_000 });
      kills++;
      if (k % 10 === 9) {
        const p = killedProducers[Math.floor(k / 10)]!;
        p.terminate();
        await p.join({ timeout: 20_000 });
      }
    }
    expect(kills).toBe(50);
    // a survivor drains the rest while the steady producer finishes
    let steadyDone = false;
    const steadyJoined = steady.join({ timeout: 60_000 }).then(() => (steadyDone = true));
    for (;;) {
      try {
        Atomics.add(seen, await q.get({ timeout: 1000 }), 1);
      } catch (e) {
        expect(e).toBeInstanceOf(EmptyError);
        if (steadyDone) break;
      }
    }
    await steadyJoined;
    expect(steady.exitCode).toBe(0);
    let duplicated = 0;
    let lost = 0;
    for (let i = 0; i < N; i++) {
      if (seen[i]! > 1) duplicated++;
      if (put[i] === 1 && seen[i] === 0) lost++;
    }
    expect(duplicated).toBe(0);
    // at most the one item each terminated consumer was taking
    expect(lost).toBeLessThanOrEqual(50);
    // the steady producer's items all went through, but for those lost with a consumer
    let steadyMissing = 0;
    for (let i = 0; i < N / 2; i++) if (seen[i] === 0) steadyMissing++;
    expect(steadyMissing).toBeLessThanOrEqual(50);
  }, 240_000);
});

describe.runIf(nativeAvailable())("killed processes (queues in native shared memory)", () => {
  it("20 SIGKILLed consumer processes and 2 producer processes never wedge the queue; nothing is duplicated", async () => {
    const N = 20_000;
    const q = new Queue<number>({ maxSize: 64, ringSize: 1 << 14 });
    const results = new Queue<number>({ ringSize: 1 << 14 });
    const seen = new Int32Array(N + 2 * N);
    let taken = 0;
    let draining = true;
    // the parent drains results all along
    const drained = (async () => {
      while (draining || !results.empty()) {
        try {
          seen[await results.get({ timeout: 50 })]! += 1;
          taken++;
        } catch (e) {
          expect(e).toBeInstanceOf(EmptyError);
        }
      }
    })();
    // killed producers put items N.. 3N-1 (some of them), the parent puts 0..N-1
    const producers = [0, 1].map((k) => start("produceForever", [q, N + k * N, N, new Event()], "process"));
    const parentPuts = (async () => {
      for (let i = 0; i < N; i++) await q.put(i);
    })();
    let kills = 0;
    for (let k = 0; k < 20; k++) {
      const started = new Event();
      const c = start("relayForever", [q, results, started], "process");
      expect(await started.wait({ timeout: 20_000 })).toBe(true);
      const before = taken;
      await until(() => taken > before + 20);
      c.kill();
      await c.join({ timeout: 20_000 });
      expect(c.exitCode).toBe(-9);
      kills++;
      if (k === 5 || k === 10) {
        const p = producers[k === 5 ? 0 : 1]!;
        p.kill();
        await p.join({ timeout: 20_000 });
      }
    }
    // a surviving consumer thread takes the rest
    const survivor = start("relayForever", [q, results, new Event()], "thread");
    await parentPuts;
    await until(() => q.empty(), 60_000);
    survivor.terminate();
    await survivor.join({ timeout: 20_000 });
    draining = false;
    await drained;
    expect(kills).toBe(20);
    let duplicated = 0;
    let lost = 0;
    for (let i = 0; i < N; i++) {
      if (seen[i]! > 1) duplicated++;
      if (seen[i] === 0) lost++;
    }
    for (let i = N; i < 3 * N; i++) if (seen[i]! > 1) duplicated++;
    expect(duplicated).toBe(0);
    // at most the one item each killed consumer held (the survivor was stopped on an empty queue)
    expect(lost).toBeLessThanOrEqual(kills + 1);
  }, 240_000);

  it.runIf(nativeAvailable())("a thread child terminated mid-put, holding the write lock: its parent, blocked in putSync, takes over", async () => {
    // the parent hears of a thread's exit on its event loop, which its putSync blocks: the thread
    // records its own end as it goes (the addon's cleanup hook), or the parent waits out its timeout
    const q = new Queue<Uint8Array | string>({ ringSize: 4096 });
    // more than the ring holds, and nobody reads: the child streams it and waits for room forever
    const child = start("putBigSync", [q, 64 * 1024], "thread");
    const words = (q as unknown as { words: { i32: Int32Array } }).words.i32;
    await until(() => robustHolder(words, TAIL_LOCK) !== 0 && Atomics.load(words, PRODUCERS) > 0, 20_000);
    child.terminate();
    // blocked here, the parent takes the write lock over; the ring is still full of the partial
    // item, so the put then fails for room (it failed for the lock before threads recorded their end)
    expect(() => q.putSync("after", { timeout: 3_000 })).toThrow(/no room/);
    // the reader drops the partial item of the ended producer (only safe to try once the above
    // holds: a reader mid-item waits for the rest, whatever its timeout, while the producer lives)
    expect(() => q.getSync({ timeout: 500 })).toThrow(EmptyError);
    q.putSync("after", { timeout: 3_000 });
    expect(q.getSync({ timeout: 3_000 })).toBe("after");
    await child.join({ timeout: 20_000 });
  }, 60_000);

  it("a worker thread of a child process terminated while asleep holding the read lock: the parent takes over", async () => {
    const q = new Queue<number>();
    const [terminate, terminated] = [new Event(), new Event()];
    const child = start("sleepyThreadConsumer", [q, terminate, terminated], "process");
    // the child's thread sleeps in getSync on the empty queue, holding the read lock
    const words = (q as unknown as { words: { i32: Int32Array } }).words.i32;
    await until(() => robustHolder(words, HEAD_LOCK) !== 0 && Atomics.load(words, CONSUMERS) > 0, 20_000);
    terminate.set();
    expect(await terminated.wait({ timeout: 20_000 })).toBe(true);
    // its process lives on; the thread's end is recorded in the queue's party table
    await q.put(7);
    expect(await q.get({ timeout: 10_000 })).toBe(7);
    child.kill();
    await child.join({ timeout: 20_000 });
  }, 60_000);
});


import { describe, expect, it } from "vitest";
import { EmptyError, FullError, nativeAvailable, ShutDownError } from "@ipc/core";
import { atomicsBackend, Deadline, FrameBatch, HAND_OVER_MIN, markThreadEnded, NOT_NOW, Ring, robustHolder } from "@ipc/core/internal";
import { Worker } from "node:worker_threads";
// the header's word indexes (not exported by @ipc/core: these tests inspect a ring's words)
import { CONSUMERS, HANDED, HEAD_LOCK, PRODUCERS, SLEEPS_OFFSET, TAIL_LOCK } from "../src/ring/ring-words.js";
import { native } from "@ipc/native";

/** Hand-overs filed and not adopted in this process. */
const handedBlocks = () => native!.regionStats().handed;
const nativeAdoptForTest = (token: number) => native!.adopt(token);

const ring = (capacity = 4096, maxSize = 0) => new Ring(Ring.allocate(capacity, maxSize), 0, atomicsBackend);
const copy = (b: Uint8Array) => b.slice();
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
const getSlow = (r: Ring) => r.getSync(copy, { deadline: new Deadline(0) });
const putSlow = (r: Ring, b: Uint8Array) => r.putSync(b, { deadline: new Deadline(0) });

describe("Ring fast paths", () => {
  it("put and get one-frame items in order, across many wrap-arounds, interleaved with the general path", () => {
    const r = ring(4096);
    let put = 0;
    let got = 0;
    for (let round = 0; round < 2000; round++) {
      const n = (round * 37) % 300;
      if (round % 3 === 0) putSlow(r, bytes(n, put++ & 0xff));
      else expect(r.tryPutFrame(bytes(n, put++ & 0xff), false)).toBe(true);
      const item = round % 2 === 0 ? r.tryGetFrame(copy) : getSlow(r);
      expect(item).not.toBe(NOT_NOW);
      expect((item as Uint8Array).byteLength).toBe(n);
      if (n > 0) expect((item as Uint8Array)[0]).toBe(got & 0xff);
      got++;
    }
    expect(r.count()).toBe(0);
    expect(r.tryGetFrame(copy)).toBe(NOT_NOW);
  });

  it("several producer and consumer objects on one ring: each one's kept view of the other side never loses, repeats or overwrites an item", () => {
    const sab = Ring.allocate(1024, 0);
    const producers = [0, 1, 2].map(() => new Ring(sab, 0, atomicsBackend));
    const consumers = [0, 1].map(() => new Ring(sab, 0, atomicsBackend));
    let put = 0;
    let got = 0;
    for (let round = 0; round < 5000; round++) {
      // a varying burst from a varying producer, until the ring is full now and then
      const p = producers[(round * 7) % 3];
      const burst = 1 + ((round * 13) % 9);
      for (let i = 0; i < burst; i++) {
        const n = 1 + ((put * 31) % 120);
        const b = bytes(n, put & 0xff);
        if (n > 1) b[n - 1] = (put >> 8) & 0xff;
        if (!p.tryPutFrame(b, false)) break;
        put++;
      }
      // a varying number taken by a varying consumer, sometimes through the general path
      const c = consumers[(round * 5) % 2];
      const takes = 1 + ((round * 11) % 8);
      for (let i = 0; i < takes && got < put; i++) {
        const item = (round + i) % 4 === 0 ? getSlow(c) : c.tryGetFrame(copy);
        expect(item).not.toBe(NOT_NOW);
        const b = item as Uint8Array;
        expect(b.byteLength).toBe(1 + ((got * 31) % 120));
        expect([b[0], b[b.byteLength - 1]]).toEqual([got & 0xff, b.byteLength === 1 ? got & 0xff : (got >> 8) & 0xff]);
        got++;
      }
      if (round % 17 === 0) {
        // one consumer empties the ring: the other, whose kept TAIL is behind, finds nothing
        const [a, b] = round % 2 === 0 ? consumers : [consumers[1], consumers[0]];
        for (let item = a.tryGetFrame(copy); item !== NOT_NOW; item = a.tryGetFrame(copy)) expect((item as Uint8Array)[0]).toBe(got++ & 0xff);
        expect(got).toBe(put);
        expect(b.tryGetFrame(copy)).toBe(NOT_NOW);
      }
    }
    while (got < put) {
      const b = consumers[got % 2].tryGetFrame(copy) as Uint8Array;
      expect(b[0]).toBe(got & 0xff);
      got++;
    }
    expect(put).toBeGreaterThan(10_000);
    expect(consumers[0].tryGetFrame(copy)).toBe(NOT_NOW);
    expect(consumers[1].count()).toBe(0);
  });

  it("gives up without waiting: no room, a slot limit, a held lock, a multi-frame item, a shut ring", () => {
    const r = ring(4096, 2);
    expect(r.tryPutFrame(bytes(10, 1), false)).toBe(true);
    expect(r.tryPutFrame(bytes(10, 2), false)).toBe(true);
    expect(r.tryPutFrame(bytes(10, 3), false)).toBe(false); // maxSize
    Atomics.store(r.i32, HEAD_LOCK, 99);
    expect(r.tryGetFrame(copy)).toBe(NOT_NOW); // lock held by another
    Atomics.store(r.i32, HEAD_LOCK, 0);
    expect((r.tryGetFrame(copy) as Uint8Array)[0]).toBe(1);

    const big = ring(4096);
    expect(big.tryPutFrame(bytes(big.maxChunk, 0), false)).toBe(false); // more than one frame
    expect(big.tryPutFrame(bytes(1000, 1), false)).toBe(true);
    expect(big.tryPutFrame(bytes(1000, 2), false)).toBe(true);
    expect(big.tryPutFrame(bytes(1000, 3), false)).toBe(true);
    expect(big.tryPutFrame(bytes(1000, 4), false)).toBe(true);
    expect(big.tryPutFrame(bytes(1000, 9), false)).toBe(false); // no room
    Atomics.store(big.i32, TAIL_LOCK, 99);
    expect(getSlow(big)[0]).toBe(1);
    expect(big.tryPutFrame(bytes(10, 5), false)).toBe(false); // lock held by another
    Atomics.store(big.i32, TAIL_LOCK, 0);
    big.shutdown(false);
    expect(big.tryPutFrame(bytes(10, 6), false)).toBe(false);
    expect((big.tryGetFrame(copy) as Uint8Array)[0]).toBe(2); // a shut ring still drains

    const streamed = ring(4096);
    // the put's generator, stepped by hand: stopped right after its first frame
    const gen = (streamed as unknown as { put(b: Uint8Array, d: Deadline, j: boolean): Generator }).put(bytes(3000, 7), new Deadline(0), false);
    gen.next(); // first frame of a multi-frame item published
    expect(streamed.tryGetFrame(copy)).toBe(NOT_NOW);
  });

  it("a decode that throws still consumes the item and releases the lock", () => {
    const r = ring();
    r.tryPutFrame(bytes(4, 1), false);
    r.tryPutFrame(bytes(4, 2), false);
    expect(() =>
      r.tryGetFrame(() => {
        throw new Error("bad");
      }),
    ).toThrow("bad");
    expect(Atomics.load(r.i32, HEAD_LOCK)).toBe(0);
    expect((r.tryGetFrame(copy) as Uint8Array)[0]).toBe(2);
  });
});

describe("Ring batches of frames (a pipe's backlog of small messages)", () => {
  const batchOf = (...items: Uint8Array[]) => {
    const b = new FrameBatch();
    for (const item of items) b.append(item);
    return b;
  };

  it("moves as many whole frames as fit, in order, across the end of the ring, and the rest later", () => {
    const r = ring(4096);
    let sent = 0;
    let got = 0;
    const batch = new FrameBatch();
    for (let round = 0; round < 300; round++) {
      // sizes from 0 to 300 bytes (0 to 38 frames of 8 bytes), some runs longer than the ring
      const k = (round * 7) % 23;
      for (let i = 0; i < k; i++) {
        const n = ((round + i) * 41) % 301;
        batch.append(bytes(n, sent++ & 0xff));
      }
      const before = batch.count;
      const moved = r.tryPutFrames(batch);
      expect(batch.count).toBe(before - moved);
      expect(r.count()).toBe(sent - got - batch.count);
      // take some of them, by both paths
      for (let i = 0; i < k; i++) {
        const item = i % 2 === 0 ? r.tryGetFrame(copy) : r.count() > 0 ? getSlow(r) : NOT_NOW;
        if (item === NOT_NOW) break;
        const b = item as Uint8Array;
        if (b.byteLength > 0) expect(b[0]).toBe(got & 0xff);
        expect(b.every((x) => x === b[0])).toBe(true);
        got++;
      }
    }
    while (!batch.isEmpty() || r.count() > 0) {
      r.tryPutFrames(batch);
      const b = r.tryGetFrame(copy) as Uint8Array;
      if (b.byteLength > 0) expect(b[0]).toBe(got & 0xff);
      got++;
    }
    expect(got).toBe(sent);
  });

  it("moves nothing into a full, shut, bounded or locked ring, nor from an empty batch", () => {
    const r = ring(4096);
    while (r.tryPutFrame(bytes(500, 1), false));
    const batch = batchOf(bytes(600, 2));
    expect(r.tryPutFrames(batch)).toBe(0); // no room
    expect(batch.count).toBe(1);
    getSlow(r);
    getSlow(r);
    Atomics.store(r.i32, TAIL_LOCK, 99);
    expect(r.tryPutFrames(batch)).toBe(0); // lock held by another
    Atomics.store(r.i32, TAIL_LOCK, 0);
    expect(r.tryPutFrames(batch)).toBe(1);
    expect(batch.isEmpty()).toBe(true);
    expect(r.tryPutFrames(batch)).toBe(0); // nothing to move
    r.shutdown(false);
    expect(r.tryPutFrames(batchOf(bytes(1, 3)))).toBe(0);
    expect(ring(4096, 5).tryPutFrames(batchOf(bytes(1, 3)))).toBe(0); // bounded: one at a time
  });

  it("a batch grows and reuses its space: thousands of frames appended and moved in parts stay whole and in order", () => {
    const batch = new FrameBatch();
    const r = ring(1 << 16);
    let sent = 0;
    let got = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 400; i++) batch.append(Uint8Array.of(sent & 0xff, (sent++ >> 8) & 0xff, 7));
      r.tryPutFrames(batch);
      for (let item = r.tryGetFrame(copy); item !== NOT_NOW; item = r.tryGetFrame(copy)) {
        expect(Array.from(item as Uint8Array)).toEqual([got & 0xff, (got++ >> 8) & 0xff, 7]);
      }
    }
    while (!batch.isEmpty()) {
      r.tryPutFrames(batch);
      for (let item = r.tryGetFrame(copy); item !== NOT_NOW; item = r.tryGetFrame(copy)) got++;
    }
    expect(got).toBe(sent);
  });
});

describe("Ring wake-ups", () => {
  it("a waker that notified a sleeper that has not run yet skips the next notify, but wakes every later sleeper", async () => {
    const r = ring(4096);
    const registrations = () => Atomics.load(r.i32, CONSUMERS + SLEEPS_OFFSET);
    const asleep = () => Atomics.load(r.i32, CONSUMERS);
    let notifies = 0;
    const counting = new Ring(r.buffer, 0, { ...atomicsBackend, notify: (i32, index, count) => (notifies++, atomicsBackend.notify(i32, index, count)) });
    // three consumers in turn: each goes to sleep (async, on the event loop) and must be woken
    for (let k = 0; k < 3; k++) {
      const got = r.getAsync(copy, { deadline: new Deadline(10_000) });
      // the async get spins, then registers and sleeps (bounded wait for that)
      const until = Date.now() + 10_000;
      while (asleep() === 0 && Date.now() < until) await new Promise((res) => setImmediate(res));
      expect(asleep()).toBe(1);
      expect(registrations()).toBe(k + 1);
      // two puts before the sleeper runs: the second needs no notify of its own
      expect(counting.tryPutFrame(bytes(8, k), false)).toBe(true);
      expect(counting.tryPutFrame(bytes(8, k + 10), false)).toBe(true);
      expect(notifies).toBe(k + 1);
      expect((await got)[0]).toBe(k);
      expect((r.tryGetFrame(copy) as Uint8Array)[0]).toBe(k + 10);
    }
    expect(asleep()).toBe(0);
  });

  it("no wake-up is lost between threads: a consumer thread that sleeps before every item gets all of them", async () => {
    const sab = Ring.allocate(4096, 0);
    const r = new Ring(sab, 0, atomicsBackend);
    const n = 2000;
    const code = `
      const { workerData, parentPort } = require("node:worker_threads");
      import("@ipc/core/internal").then(({ Ring, atomicsBackend, Deadline }) => {
        const r = new Ring(workerData, 0, atomicsBackend);
        let sum = 0;
        for (let i = 0; i < ${n}; i++) sum += r.getSync((b) => b[0], { deadline: new Deadline(20000) });
        parentPort.postMessage(sum);
      });`;
    const w = new Worker(code, { eval: true, workerData: sab });
    const done = new Promise<number>((res, rej) => (w.once("message", res), w.once("error", rej)));
    let expected = 0;
    for (let i = 0; i < n; i++) {
      // wait (bounded) until the consumer is asleep or has registered to sleep, then put one item
      const deadline = Date.now() + 20_000;
      while (Atomics.load(r.i32, CONSUMERS) === 0) if (Date.now() > deadline) throw new Error("consumer never slept");
      expect(r.tryPutFrame(Uint8Array.of(i & 0xff), false)).toBe(true);
      expected += i & 0xff;
      // the consumer took it before it sleeps again
      while (r.count() > 0) if (Date.now() > deadline) throw new Error("item not taken");
    }
    expect(await done).toBe(expected);
    await w.terminate();
  });
});

describe("Ring: an item whose producer ended part-way", () => {
  it("is dropped by the reader even after another producer took the lock over and let it go (no wait for a rest that never comes)", async () => {
    const sab = Ring.allocate(4096, 0);
    const r = new Ring(sab, 0, atomicsBackend);
    // a producer thread streams an item 16 times the ring's size: nobody reads, so it fills the
    // ring and waits for room, holding the producers' lock
    const code = `
      const { workerData } = require("node:worker_threads");
      import("@ipc/core/internal").then(({ Ring, atomicsBackend, Deadline }) => {
        new Ring(workerData, 0, atomicsBackend).putSync(new Uint8Array(65536).fill(9), { deadline: new Deadline(60000) });
      });`;
    const w = new Worker(code, { eval: true, workerData: sab });
    const deadline = Date.now() + 20_000;
    // until it sleeps for room (the ring full of its frames)
    while (robustHolder(r.i32, TAIL_LOCK) === 0 || Atomics.load(r.i32, PRODUCERS) === 0) {
      if (Date.now() > deadline) throw new Error("the producer never started its item");
      await new Promise((res) => setImmediate(res));
    }
    const threadId = w.threadId;
    await w.terminate();
    markThreadEnded(threadId); // what Process does when its thread exits
    // a put takes the lock over from the ended producer, finds no room, gives up and unlocks
    expect(() => r.putSync(Uint8Array.of(1), { deadline: new Deadline(200) })).toThrow(FullError);
    expect(robustHolder(r.i32, TAIL_LOCK)).toBe(0);
    // the reader drops the partial item (it waited for its rest for ever, whatever its deadline)
    const got = r.getAsync((b) => b.slice(), { deadline: new Deadline(200) });
    const bound = new Promise((_, rej) => setTimeout(() => rej(new Error("the reader waits for the rest of a dead item")), 10_000).unref());
    await expect(Promise.race([got, bound])).rejects.toThrow(EmptyError);
    expect(r.tryPutFrame(Uint8Array.of(5), false)).toBe(true);
    expect((await r.getAsync((b) => b.slice(), { deadline: new Deadline(1000) }))[0]).toBe(5);
  });
});

describe("Ring hand-over (large items between threads of one process)", () => {
  // without the addon (IPC_NATIVE=0) the same puts stream the items: the results must not differ
  const handing = nativeAvailable();
  const putHanded = (r: Ring, b: Uint8Array, timeout = 0) =>
    r.putSync(b, { deadline: new Deadline(timeout), handOver: true });
  const pattern = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff);
  const own = (b: Uint8Array) => b;

  it("a large item is handed over: the consumer gets the very bytes in a buffer of its own, in order with the rest", () => {
    const r = ring(1 << 20);
    const large = pattern(HAND_OVER_MIN + 5, 3);
    putSlow(r, bytes(10, 1));
    putHanded(r, large);
    putSlow(r, bytes(20, 2));
    expect(r.handsOver(large.byteLength)).toBe(handing);
    expect(r.handsOver(HAND_OVER_MIN - 1)).toBe(false);
    expect(getSlow(r)).toEqual(bytes(10, 1));
    const got = r.getSync(own, { deadline: new Deadline(0) });
    expect(got).toEqual(large);
    expect(got.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(getSlow(r)).toEqual(bytes(20, 2));
    expect(r.count()).toBe(0);
    expect(Atomics.load(r.i32, HANDED)).toBe(0);
  });

  it.runIf(handing)("the fast get takes a hand-over frame too", () => {
    const r = ring(1 << 16);
    const large = pattern(HAND_OVER_MIN, 9);
    putHanded(r, large);
    expect(r.tryGetFrame(copy)).toEqual(large);
    expect(r.tryGetFrame(copy)).toBe(NOT_NOW);
  });

  it("a decoder that offers a buffer (assemble) gets a handed-over item copied into it", () => {
    const base = handing ? handedBlocks() : 0;
    const r = ring(1 << 20);
    const large = pattern(HAND_OVER_MIN + 64, 5);
    const target = new Uint8Array(large.byteLength + 10);
    const into = Object.assign((b: Uint8Array) => b, { assemble: (total: number) => target.subarray(10, 10 + total) });
    for (const take of [() => r.tryGetFrame(into), () => r.getSync(into, { deadline: new Deadline(0) })]) {
      target.fill(0);
      putHanded(r, large);
      const got = take() as Uint8Array;
      if (got === (NOT_NOW as never)) continue; // streamed (no addon): the fast get does not take multi-frame items
      expect(got.buffer).toBe(target.buffer);
      expect(target.subarray(10)).toEqual(large);
      if (handing) expect(handedBlocks()).toBe(base);
    }
    while (r.count() > 0) getSlow(r);
  });

  it.runIf(handing)("two hand-overs are in flight at most: the next put waits for one to be taken, as for room", () => {
    const base = handing ? handedBlocks() : 0;
    const r = ring(1 << 16);
    putHanded(r, pattern(HAND_OVER_MIN, 1));
    putHanded(r, pattern(HAND_OVER_MIN, 2));
    expect(Atomics.load(r.i32, HANDED)).toBeGreaterThan(0);
    expect(Atomics.load(r.i32, HANDED + 1)).toBeGreaterThan(0);
    expect(() => putHanded(r, pattern(HAND_OVER_MIN, 3))).toThrow(FullError);
    // a small item still passes, and the block of the refused put was freed
    putSlow(r, bytes(8, 4));
    expect(handedBlocks()).toBe(base + 2);
    expect(getSlow(r)).toEqual(pattern(HAND_OVER_MIN, 1));
    putHanded(r, pattern(HAND_OVER_MIN, 3));
    expect(getSlow(r)).toEqual(pattern(HAND_OVER_MIN, 2));
    expect(getSlow(r)).toEqual(bytes(8, 4));
    expect(getSlow(r)).toEqual(pattern(HAND_OVER_MIN, 3));
    expect(handedBlocks()).toBe(base);
    expect([Atomics.load(r.i32, HANDED), Atomics.load(r.i32, HANDED + 1)]).toEqual([0, 0]);
  });

  it.runIf(handing)("a put that finds no room for its frame frees its block; a frame taken by a consumer that ended is skipped", () => {
    const base = handing ? handedBlocks() : 0;
    const r = ring(4096);
    while (r.tryPutFrame(bytes(200, 5), false));
    while (r.tryPutFrame(bytes(0, 0), false));
    expect(() => putHanded(r, pattern(HAND_OVER_MIN, 1))).toThrow(FullError);
    expect(handedBlocks()).toBe(base);
    expect(Atomics.load(r.i32, HANDED)).toBe(0);
    while (r.tryGetFrame(copy) !== NOT_NOW);

    // consumers took both blocks and ended before moving HEAD and clearing the words
    putHanded(r, pattern(HAND_OVER_MIN, 1));
    putHanded(r, pattern(HAND_OVER_MIN, 2));
    putSlow(r, bytes(3, 3));
    for (const w of [HANDED, HANDED + 1]) expect(nativeAdoptForTest(Atomics.load(r.i32, w))).toBeDefined();
    // the next producer finds the tokens taken and clears a word instead of waiting
    putHanded(r, pattern(HAND_OVER_MIN, 4));
    // the next consumer skips the lost items
    expect(getSlow(r)).toEqual(bytes(3, 3));
    expect(getSlow(r)).toEqual(pattern(HAND_OVER_MIN, 4));
    expect(handedBlocks()).toBe(base);
  });
});

describe("Ring onStall", () => {
  it("a producer waiting mid-item calls onStall, which can end the wait by shutting the ring down", () => {
    const r = ring(4096);
    let calls = 0;
    r.onStall = () => {
      if (++calls === 3) r.shutdown(true);
    };
    // three frames fit, the fourth waits for room that never comes: only onStall ends it
    const item = new Uint8Array(r.maxChunk * 5);
    expect(() => r.putSync(item, { deadline: new Deadline(0) })).toThrow(ShutDownError);
    expect(calls).toBe(3);
    // before its first frame a put is bounded by its deadline, and onStall is not called
    const fresh = ring(4096);
    fresh.onStall = () => {
      throw new Error("not mid-item");
    };
    while (fresh.tryPutFrame(bytes(200, 1), false));
    expect(() => fresh.putSync(bytes(300, 2), { deadline: new Deadline(0) })).toThrow(FullError);
  });
});

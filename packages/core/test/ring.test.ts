import { describe, expect, it } from "vitest";
import { atomicsBackend, Deadline, driveSync, EmptyError, FullError, HEAD_LOCK, NOT_NOW, Ring, TAIL_LOCK } from "@ipc/core";

const ring = (capacity = 4096, maxSize = 0) => new Ring(Ring.allocate(capacity, maxSize), 0, atomicsBackend);
const copy = (b: Uint8Array) => b.slice();
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
const getSlow = (r: Ring) => driveSync(r, HEAD_LOCK, new Deadline(0), r.get(new Deadline(0), copy), () => new EmptyError());
const putSlow = (r: Ring, b: Uint8Array) => driveSync(r, TAIL_LOCK, new Deadline(0), r.put(b, new Deadline(0), false), () => new FullError());

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
    const gen = streamed.put(bytes(3000, 7), new Deadline(0), false);
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

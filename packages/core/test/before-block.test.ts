// A thread's blocking waits run its movers (work that otherwise needs the event loop, such as a
// pipe end's buffered sends) before they sleep, in slices while a mover has work left. The pipe
// package tests the deadlock this prevents; here, the contract itself.
import { describe, expect, it } from "vitest";
import { timed } from "@ipc/test-utils/timed";
import { Event, Lock, Semaphore } from "@ipc/core";
import { addMover, beforeBlock, MOVE_ON_MS, removeMover } from "@ipc/core/internal";

describe("beforeBlock (memory/before-block.ts)", () => {
  it("without movers a wait sleeps as long as asked; each mover runs; one with work left cuts the sleep to slices", () => {
    expect(beforeBlock(5000)).toBe(5000);
    expect(beforeBlock(Infinity)).toBe(Infinity);
    let calls = 0;
    let left = 2;
    const mover = (): boolean => {
      calls++;
      return --left <= 0;
    };
    addMover(mover);
    try {
      expect(beforeBlock(5000)).toBe(MOVE_ON_MS);
      expect(beforeBlock(0.5)).toBe(0.5);
      // done now: the sleep is whole again, though the mover still runs until it is removed
      expect(beforeBlock(5000)).toBe(5000);
      expect(calls).toBe(3);
    } finally {
      removeMover(mover);
    }
    expect(beforeBlock(5000)).toBe(5000);
    expect(calls).toBe(3);
  });

  it("Event.waitSync, Semaphore.acquireSync and Lock.acquireSync run a pending mover between slices and still honour their timeout", async () => {
    let calls = 0;
    const mover = (): boolean => {
      calls++;
      return false;
    };
    const held = new Lock();
    await held.acquire();
    const waits: [string, () => unknown, unknown][] = [
      ["Event.waitSync", () => new Event().waitSync({ timeout: 60 }), false],
      ["Semaphore.acquireSync", () => new Semaphore(0).acquireSync({ timeout: 60 }), false],
      ["Lock.acquireSync", () => held.acquireSync({ timeout: 60 }), false],
    ];
    addMover(mover);
    try {
      for (const [what, wait, expected] of waits) {
        calls = 0;
        expect(await timed(wait, 60, 5000), what).toBe(expected);
        // 1 ms slices over 60 ms: dozens of calls; a handful is enough to show the slicing
        expect(calls, what).toBeGreaterThanOrEqual(5);
      }
    } finally {
      removeMover(mover);
    }
  });
});

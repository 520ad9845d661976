/** Test helper: asserts that an operation settles (resolves, rejects or returns) within [min, max] ms. */
import { expect } from "vitest";

/**
 * Runs `op` (a function is called after the clock starts; a promise is awaited), then checks how
 * long it took (5 ms of slack below `min` for timer granularity). Pass a function whenever `min`
 * matters: a promise made before the call starts the operation's own clock earlier than this
 * one, and on a loaded machine the gap can be several ms, so a correct timeout looks early.
 */
export async function timed<T>(op: Promise<T> | (() => Promise<T> | T), min: number, max: number): Promise<T> {
  const t = performance.now();
  try {
    return await (typeof op === "function" ? op() : op);
  } finally {
    const dt = performance.now() - t;
    expect(dt).toBeGreaterThanOrEqual(min - 5);
    expect(dt).toBeLessThan(max);
  }
}

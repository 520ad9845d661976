/** Test helper: asserts that a promise settles (resolves or rejects) within [min, max] ms. */
import { expect } from "vitest";

/** Awaits `p`, then checks how long it took (5 ms of slack below `min` for timer granularity). */
export async function timed<T>(p: Promise<T>, min: number, max: number): Promise<T> {
  const t = performance.now();
  try {
    return await p;
  } finally {
    const dt = performance.now() - t;
    expect(dt).toBeGreaterThanOrEqual(min - 5);
    expect(dt).toBeLessThan(max);
  }
}

// The seed programs of Python's Pool docs: Pool(5).map(f, [1, 2, 3]) → [1, 4, 9], and
// applyAsync with get({ timeout }) (a TimeoutError when the task is slower, while it keeps running).
import { TimeoutError } from "@ipc/core";
import { Pool } from "@ipc/pool";
import { isMainProcess } from "@ipc/process";

export function f(x) {
  return x * x;
}

export async function sleepy(ms) {
  await new Promise((r) => setTimeout(r, ms));
  return `slept ${ms} ms`;
}

if (isMainProcess) {
  const context = process.argv[2] ?? "thread";
  // (in TypeScript, or on Node >= 24: `await using pool = new Pool(...)`)
  const pool = new Pool({ module: import.meta.url, processes: 5, context });
  try {
    console.log(await pool.map(f, [1, 2, 3]));

  const result = pool.applyAsync(f, [10]);
  console.log(await result.get({ timeout: 5_000 }));

  const slow = pool.applyAsync(sleepy, [300]);
  try {
    await slow.get({ timeout: 10 });
  } catch (e) {
    console.log(e instanceof TimeoutError ? "TimeoutError: the task is still running" : e);
  }
  console.log(await slow.get());
  } finally {
    await pool.terminate();
  }
}

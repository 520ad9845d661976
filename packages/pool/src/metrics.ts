/** Pool metrics: counts and percentiles of wait and run times over the most recent tasks. */

/** Percentiles in milliseconds. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** A snapshot of a pool's activity. */
export interface PoolMetrics {
  tasksCompleted: number;
  tasksFailed: number;
  /** Tasks waiting for a worker. */
  queueLength: number;
  /** Tasks sent to workers and not answered yet. */
  running: number;
  workers: number;
  workersReplaced: number;
  /** From submission to dispatch to a worker. */
  waitTime: Percentiles;
  /** From dispatch to the answer (includes time queued inside the worker behind earlier tasks). */
  runTime: Percentiles;
}

const WINDOW = 1024;

/** A ring of the last samples. */
export class Samples {
  private readonly values = new Float64Array(WINDOW);
  private n = 0;

  add(v: number): void {
    this.values[this.n++ % WINDOW] = v;
  }

  percentiles(): Percentiles {
    const k = Math.min(this.n, WINDOW);
    if (k === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
    const sorted = Array.from(this.values.subarray(0, k)).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(k - 1, Math.floor(q * k))];
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[k - 1] };
  }
}

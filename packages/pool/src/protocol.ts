/** Messages between a pool and its workers (one channel per worker, each message one codec frame). */

/**
 * One unit of work: call `fn` once per item (a map chunk, or a single apply). With `star` each item
 * is an argument list (`fn(...item)`), else the one argument (`fn(item)`), which spares a small
 * array per item on both sides.
 */
export interface Task {
  id: number;
  fn: string;
  items: unknown[];
  star: boolean;
  /**
   * The task can be aborted (it has a signal): the worker asks before it starts it (`starting`)
   * and runs it only on the pool's `go`, so a task aborted before that never runs.
   */
  gated?: true;
}

/** Pool → worker. `go`: whether a gated task may start (false: it was aborted; answer `skipped`). */
export type ToWorker = { t: "tasks"; tasks: Task[] } | { t: "go"; id: number; run: boolean } | { t: "stop" };

/** The answer to one task. */
export type Answer = { id: number; ok: true; value: unknown[] } | { id: number; ok: false; error: unknown } | { id: number; ok: false; skipped: true };

/**
 * Worker → pool. A worker runs at most `concurrency` tasks at once, starting them in the order
 * they came, and sends each answer as its task ends (with a concurrency of 1: before it starts the
 * next task).
 */
export type FromWorker = { t: "ready" } | { t: "initError"; error: unknown } | { t: "answers"; answers: Answer[] } | { t: "starting"; id: number };

/** How many owed answers a message settles. */
export function answersIn(msg: FromWorker): number {
  return msg.t === "answers" ? msg.answers.length : msg.t === "starting" ? 0 : 1;
}

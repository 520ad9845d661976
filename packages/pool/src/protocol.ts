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
}

/** Pool → worker. */
export type ToWorker = { t: "tasks"; tasks: Task[] } | { t: "stop" };

/** The answer to one task. */
export type Answer = { id: number; ok: true; value: unknown[] } | { id: number; ok: false; error: unknown };

/** Worker → pool. A worker sends each answer before it starts its next task. */
export type FromWorker = { t: "ready" } | { t: "initError"; error: unknown } | { t: "answers"; answers: Answer[] };

/** How many owed answers a message settles. */
export function answersIn(msg: FromWorker): number {
  return msg.t === "answers" ? msg.answers.length : 1;
}

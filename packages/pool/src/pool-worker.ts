/**
 * The body of a pool worker (run as a Process target, in a thread or a child process): load the
 * task module, run the initializer, then run task batches until told to stop, answering each task
 * with its results or its error. A result that cannot be serialized fails that task only.
 */
import { addHandleResolutionBase, allowHandleModule, deserialize, loadModule, moduleUrl, serialize, SerializationError } from "@ipc/core/slim";
import type { Answer, FromWorker, Task, ToWorker } from "./protocol.js";
import { RingChannel } from "./ring-channel.js";

/** How a worker reaches its pool. */
export type WorkerLink = { kind: "ring"; tasks: SharedArrayBuffer; results: SharedArrayBuffer } | { kind: "socket"; address: string; index: number };

/** What a worker is started with. */
export interface WorkerSetup {
  module: string;
  initializer?: string;
  initArgs: unknown[];
  maxTasks: number;
  /** Tasks run at once (`concurrentTasksPerWorker`). */
  concurrency: number;
  link: WorkerLink;
}


type Fn = (...a: unknown[]) => unknown;

async function runTask(mod: Record<string, unknown>, task: Task): Promise<Answer> {
  const fn = mod[task.fn];
  try {
    if (typeof fn !== "function") throw new TypeError(`the task module has no exported function "${task.fn}"`);
    const value: unknown[] = new Array(task.items.length);
    const f = fn as Fn;
    for (let i = 0; i < task.items.length; i++) {
      let r = task.star ? f(...(task.items[i] as unknown[])) : f(task.items[i]);
      if (r instanceof Promise || (typeof r === "object" && r !== null && typeof (r as PromiseLike<unknown>).then === "function")) r = await Promise.resolve(r);
      value[i] = r;
    }
    return { id: task.id, ok: true, value };
  } catch (error) {
    return { id: task.id, ok: false, error };
  }
}

/** Encodes answers; a result that cannot be serialized fails that task only. */
function encodeAnswers(answers: Answer[]): Uint8Array {
  try {
    return serialize({ t: "answers", answers } satisfies FromWorker);
  } catch {
    const safe = answers.map((a): Answer => {
      if (!a.ok) return a;
      try {
        serialize(a.value);
        return a;
      } catch (e) {
        const error = e instanceof SerializationError ? new SerializationError(`result of task ${a.id}: ${e.message}`) : e;
        return { id: a.id, ok: false, error };
      }
    });
    return serialize({ t: "answers", answers: safe } satisfies FromWorker);
  }
}

/** Runs a pool worker until the pool stops it or `maxTasks` is reached. */
/** How long a thread worker blocks for its next task before it waits without blocking (ms). */
const SYNC_WAIT_MS = 1;

export async function poolWorker(setup: WorkerSetup): Promise<void> {
  let send: (bytes: Uint8Array) => void | Promise<void>;
  /** The next message; `{ t: "stop" }` once `signal` is aborted. */
  let next: (signal?: AbortSignal) => ToWorker | Promise<ToWorker>;
  /** The next message if one is already here, without waiting. */
  let poll: () => ToWorker | undefined;
  let close = async () => {};
  let flush = () => {};
  if (setup.link.kind === "ring") {
    const tasks = new RingChannel(setup.link.tasks);
    const results = new RingChannel(setup.link.results);
    send = (bytes) => results.sendRaw(bytes);
    // blocks for the next task only briefly (a busy pool hands the next one over at once), then
    // waits with the event loop running: an idle worker's timers, I/O and late errors (a timer
    // that throws after its task returned) happen as they would in a process worker
    next = () => tasks.tryRecv<ToWorker>(SYNC_WAIT_MS) ?? tasks.recv<ToWorker>();
    poll = () => (tasks.pending() ? tasks.tryRecv<ToWorker>() : undefined);
    // never block running tasks
    if (setup.concurrency > 1) next = (signal) => tasks.recv<ToWorker>(signal).catch((e: unknown) => (signal?.aborted ? { t: "stop" as const } : Promise.reject(e)));
  } else {
    // the transport is loaded only by process workers (threads talk through shared memory)
    const { connectFramed, currentAuthkey } = await import("@ipc/core/internal");
    const conn = await connectFramed(setup.link.address, { authkey: currentAuthkey(), retryFor: 10_000 });
    const inbox: ToWorker[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    conn.setHandler((frame) => {
      inbox.push(deserialize<ToWorker>(frame));
      wake?.();
    });
    conn.onClose(() => {
      closed = true;
      wake?.();
    });
    conn.send(serialize({ t: "hello", index: setup.link.index }));
    send = (bytes) => conn.send(bytes);
    next = async (signal) => {
      while (inbox.length === 0) {
        if (closed || signal?.aborted) return { t: "stop" };
        await new Promise<void>((r) => {
          wake = r;
          signal?.addEventListener("abort", () => r(), { once: true });
        });
        wake = undefined;
      }
      return inbox.shift()!;
    };
    poll = () => inbox.shift();
    close = async () => {
      // what was sent reaches the pool before this process exits
      await conn.flushed();
      conn.close();
    };
    flush = () => conn.flush();
  }
  let mod: Record<string, unknown>;
  try {
    // the pool is trusted: handle types of the task module revive here, @ipc's own from its dependencies
    const url = moduleUrl(setup.module);
    allowHandleModule(url);
    addHandleResolutionBase(url);
    mod = await loadModule(url);
  } catch (error) {
    await send(serialize({ t: "initError", error } satisfies FromWorker));
    await close();
    return;
  }
  if (setup.initializer) {
    try {
      const init = mod[setup.initializer];
      if (typeof init !== "function") throw new TypeError(`the task module has no exported initializer "${setup.initializer}"`);
      await (init as Fn)(...setup.initArgs);
    } catch (error) {
      await send(serialize({ t: "initError", error } satisfies FromWorker));
      await close();
      return;
    }
  }
  await send(serialize({ t: "ready" } satisfies FromWorker));
  await runTasks(mod, setup, { send, next, poll, flush });
  await close();
}

interface Channel {
  send(bytes: Uint8Array): void | Promise<void>;
  next(signal?: AbortSignal): ToWorker | Promise<ToWorker>;
  poll(): ToWorker | undefined;
  flush(): void;
}

/**
 * Runs tasks as they come until the pool says stop (or `maxTasks` were taken): at most
 * `setup.concurrency` at once, started in the order they came. Before starting a task the worker
 * takes in the messages already there, so a task the pool cancelled while it waited here is
 * skipped, never run. Each answer leaves as its task ends: when a worker dies, the pool then knows
 * which tasks it had started (the first `concurrency` it has no answer for).
 */
async function runTasks(mod: Record<string, unknown>, setup: WorkerSetup, ch: Channel): Promise<void> {
  const queue: Task[] = [];
  let head = 0;
  /** The pool's answers to `starting`: whether the gated task may run. */
  const gates = new Map<number, boolean>();
  /** Gated tasks waiting for their answer. */
  let gated = 0;
  let stop = false;
  /** Takes in one message; false for stop. */
  const absorb = (msg: ToWorker): boolean => {
    if (msg.t === "tasks") for (const t of msg.tasks) queue.push(t);
    else if (msg.t === "go") gates.set(msg.id, msg.run);
    else stop = true;
    return !stop;
  };
  const takeIn = () => {
    for (let m = ch.poll(); m !== undefined; m = ch.poll()) absorb(m);
  };
  const answer = async (a: Answer) => {
    await ch.send(encodeAnswers([a]));
    ch.flush();
  };
  /** Asks the pool whether a gated task may start; the reader (`pump`) takes in its answer. */
  const mayStart = async (task: Task, pump: () => Promise<void>): Promise<boolean> => {
    if (!task.gated) return true;
    await ch.send(serialize({ t: "starting", id: task.id } satisfies FromWorker));
    ch.flush();
    gated++;
    try {
      while (!gates.has(task.id) && !stop) await pump();
    } finally {
      gated--;
    }
    const run = gates.get(task.id) === true;
    gates.delete(task.id);
    return run;
  };
  let taken = 0;
  const limit = setup.maxTasks > 0 ? setup.maxTasks : Infinity;
  if (setup.concurrency <= 1) {
    while (taken < limit) {
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
        if (!absorb(await ch.next())) break;
        continue;
      }
      takeIn();
      const task = queue[head++];
      taken++;
      if (await mayStart(task, async () => void absorb(await ch.next()))) await answer(await runTask(mod, task));
      else await answer({ id: task.id, ok: false, skipped: true });
    }
    return;
  }
  // several at once: a reader takes messages in while tasks run, until stop or the last allowed task
  let running = 0;
  let idle: (() => void) | undefined;
  const allTaken = new AbortController();
  /** The reader below takes in every message: a gated task waits for its `go` to arrive there. */
  let arrivals: (() => void)[] = [];
  const nextArrival = () => new Promise<void>((r) => arrivals.push(r));
  const arrived = () => {
    const waiting = arrivals;
    arrivals = [];
    for (const r of waiting) r();
  };
  const startMore = () => {
    while (running < setup.concurrency && head < queue.length && taken < limit) {
      const task = queue[head++];
      if (++taken >= limit) allTaken.abort();
      running++;
      void mayStart(task, nextArrival)
        .then((run) => (run ? runTask(mod, task) : ({ id: task.id, ok: false, skipped: true } as const)))
        .then(answer)
        .finally(() => {
          running--;
          takeIn();
          startMore();
          idle?.();
        });
    }
  };
  while (!stop && (taken < limit || gated > 0)) {
    // past the last allowed task, wait for messages only while a gated task waits for its answer
    const more = absorb(await ch.next(gated > 0 ? undefined : allTaken.signal));
    arrived();
    if (!more) break;
    takeIn();
    startMore();
  }
  while (running > 0) await new Promise<void>((r) => (idle = r));
}

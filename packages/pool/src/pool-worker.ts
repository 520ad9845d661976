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
  let next: () => ToWorker | Promise<ToWorker>;
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
  } else {
    // the transport is loaded only by process workers (threads talk through shared memory)
    const { connectFramed, currentAuthkey } = await import("@ipc/core");
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
    next = async () => {
      while (inbox.length === 0) {
        if (closed) return { t: "stop" };
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      return inbox.shift()!;
    };
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
  let done = 0;
  for (;;) {
    const msg = await next();
    if (msg.t === "stop") break;
    for (const task of msg.tasks) {
      // each answer leaves before the next task starts: when a worker dies, the pool then knows
      // the task it died in (the first one it has no answer for)
      await send(encodeAnswers([await runTask(mod, task)]));
      flush();
      done++;
    }
    if (setup.maxTasks > 0 && done >= setup.maxTasks) break;
  }
  await close();
}

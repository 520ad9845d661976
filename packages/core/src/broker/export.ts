/**
 * Home side of the broker: started lazily (in a dedicated, unref'd worker thread) the first time a
 * local shared object is sent toward another process; every such object is registered with it and
 * travels as a {@link RemoteRef}. The same thread is this process's I/O thread: other packages run
 * tasks there ({@link runInBroker}) that must keep going while this thread is blocked in a `*Sync`
 * call (socket relays of pipes, listeners).
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from "node:worker_threads";
import { deserialize } from "../codec/decoder.js";
import { IpcError } from "../errors/errors.js";
import { serialize } from "../codec/encoder.js";
import { entryUrl, createWorker } from "../entries.js";
import { currentAuthkey } from "../transport/authkey.js";
import { privateAddress } from "../transport/address.js";
import type { RemoteRef, TaskMessage, TaskReply } from "./protocol.js";

interface Broker {
  address: string;
  worker: Worker;
  port: MessagePort;
  /** Replies to tasks run synchronously. */
  syncPort: MessagePort;
  flag: Int32Array;
  nextId: number;
  exported: WeakMap<object, RemoteRef>;
  tasks: Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>;
}

let broker: Broker | undefined;

/** Longest a task run with {@link runInBrokerSync} may take (ms). */
const SYNC_TASK_MS = 60_000;

function start(): Broker {
  const address = privateAddress("ipc-broker");
  const { port1, port2 } = new MessageChannel();
  const sync = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = createWorker(entryUrl("broker/broker-worker"), {
    workerData: { address, authkey: new Uint8Array(currentAuthkey()), port: port2, syncPort: sync.port2, flag },
    transferList: [port2, sync.port2],
    name: "@ipc broker",
  });
  worker.unref();
  worker.on("error", (e) => {
    process.emitWarning(`@ipc broker thread failed: ${e instanceof Error ? e.message : e}`);
  });
  const b: Broker = { address, worker, port: port1, syncPort: sync.port1, flag, nextId: 1, exported: new WeakMap(), tasks: new Map() };
  worker.once("exit", () => {
    // nothing will answer the tasks still pending: fail them rather than leave them hanging
    for (const t of b.tasks.values()) t.reject(new IpcError("the broker thread ended"));
    b.tasks.clear();
    if (broker === b) broker = undefined;
  });
  port1.on("message", (m: TaskReply) => settleTask(b, m));
  port1.unref();
  return b;
}

function settleTask(b: Broker, m: TaskReply): void {
  const t = b.tasks.get(m.id);
  if (!t) return;
  b.tasks.delete(m.id);
  // keep the program alive only while someone awaits a task
  if (b.tasks.size === 0) b.port.unref();
  if (m.ok) t.resolve(deserialize(m.v, { shared: m.shared }));
  else t.reject(deserialize(m.v));
}

/** Registers a local shared object with this process's broker; returns how others reach it. */
export function exportToBroker(obj: object): RemoteRef {
  broker ??= start();
  const known = broker.exported.get(obj);
  if (known) return known;
  const shared: SharedArrayBuffer[] = [];
  const bytes = serialize(obj, { target: "thread", shared });
  const ref: RemoteRef = { address: broker.address, id: broker.nextId++ };
  broker.port.postMessage({ id: ref.id, bytes, shared });
  broker.exported.set(obj, ref);
  return ref;
}

/** The address of this process's broker, if it was started. */
export function brokerAddress(): string | undefined {
  return broker?.address;
}

function postTask(module: string, name: string, args: unknown[], sync: boolean): number {
  broker ??= start();
  const shared: SharedArrayBuffer[] = [];
  const a = serialize(args, { target: "thread", shared });
  const id = broker.nextId++;
  broker.port.postMessage({ t: "task", id, module, name, a, shared, sync } satisfies TaskMessage);
  return id;
}

/**
 * Runs `module`'s export `name` with `args` in this process's broker thread (started if needed)
 * and resolves with what it returns. Values cross with the codec (SharedArrayBuffers stay shared).
 */
export function runInBroker(module: string, name: string, args: unknown[]): Promise<unknown> {
  let id: number;
  try {
    id = postTask(module, name, args, false);
  } catch (e) {
    return Promise.reject(e);
  }
  const b = broker!;
  b.port.ref();
  return new Promise((resolve, reject) => b.tasks.set(id, { resolve, reject }));
}

/** As {@link runInBroker}, blocking this thread until the task settles. */
export function runInBrokerSync(module: string, name: string, args: unknown[]): unknown {
  const b = (broker ??= start());
  Atomics.store(b.flag, 0, 0);
  const id = postTask(module, name, args, true);
  const until = performance.now() + SYNC_TASK_MS;
  for (;;) {
    const left = until - performance.now();
    // the broker thread is alive as long as the process is; a bound still beats a hang
    if (left <= 0) throw new IpcError(`the broker thread did not run ${name} within ${SYNC_TASK_MS / 1000} s`);
    Atomics.wait(b.flag, 0, 0, left);
    const got = receiveMessageOnPort(b.syncPort);
    if (got) {
      const m = got.message as TaskReply;
      if (m.id !== id) continue;
      if (m.ok) return deserialize(m.v, { shared: m.shared });
      throw deserialize(m.v);
    }
    Atomics.store(b.flag, 0, 0);
  }
}

/**
 * Entry of the broker thread: serves objects registered by the home thread (see broker-server.ts)
 * and runs tasks other packages send it (see `runInBroker` in export.ts).
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { loadModuleSync } from "../load-module.js";
import { deserialize } from "../codec/decoder.js";
import { serialize } from "../codec/encoder.js";
import { BrokerServer } from "./broker-server.js";
import type { RegisterMessage, TaskMessage, TaskReply } from "./protocol.js";
import { setIsolateState } from "../isolate-state.js";

const { address, authkey, port, syncPort, flag } = workerData as {
  address: string;
  authkey: Uint8Array;
  port: MessagePort;
  syncPort: MessagePort;
  flag: Int32Array;
};

function reply(m: TaskMessage, r: TaskReply): void {
  if (!m.sync) {
    port.postMessage(r);
    return;
  }
  syncPort.postMessage(r);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

async function runTask(m: TaskMessage): Promise<void> {
  try {
    const args = deserialize<unknown[]>(m.a, { shared: m.shared });
    // require(esm) loads synchronously: a task module is usually the package that posted the task
    const mod = loadModuleSync(m.module);
    const fn = mod[m.name];
    if (typeof fn !== "function") throw new TypeError(`${m.module} has no function export "${m.name}"`);
    const value = await (fn as (...a: unknown[]) => unknown)(...args);
    const shared: SharedArrayBuffer[] = [];
    reply(m, { id: m.id, ok: true, v: serialize(value, { target: "thread", shared }), shared });
  } catch (e) {
    let v: Uint8Array;
    try {
      v = serialize(e);
    } catch {
      v = serialize(new Error(String(e)));
    }
    reply(m, { id: m.id, ok: false, v });
  }
}

function onMessage(m: RegisterMessage | TaskMessage): void {
  if ((m as TaskMessage).t === "task") void runTask(m as TaskMessage);
  else server.register(m as RegisterMessage);
}

const server = new BrokerServer({
  address,
  authkey: Buffer.from(authkey),
  drainRegistrations() {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) onMessage(m.message as RegisterMessage | TaskMessage);
  },
});
// tasks (and tests) of this thread reach the server here
setIsolateState("@ipc/core:broker-server", server);
port.on("message", onMessage);
server.listen().then(
  () => parentPort!.postMessage({ ready: true }),
  (e) => parentPort!.postMessage({ ready: false, error: String(e) }),
);

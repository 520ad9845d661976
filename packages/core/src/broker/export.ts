/**
 * Home side of the broker: started lazily (in a dedicated, unref'd worker thread) the first time a
 * local shared object is sent toward another process; every such object is registered with it and
 * travels as a {@link RemoteRef}.
 */
import { MessageChannel, type MessagePort, type Worker } from "node:worker_threads";
import { serialize } from "../codec/encoder.js";
import { entryUrl, createWorker } from "../entries.js";
import { currentAuthkey } from "../transport/authkey.js";
import { arbitraryAddress } from "../transport/address.js";
import type { RemoteRef } from "./protocol.js";

interface Broker {
  address: string;
  worker: Worker;
  port: MessagePort;
  nextId: number;
  exported: WeakMap<object, RemoteRef>;
}

let broker: Broker | undefined;

function start(): Broker {
  const address = arbitraryAddress("ipc-broker");
  const { port1, port2 } = new MessageChannel();
  const worker = createWorker(entryUrl("broker/broker-worker"), {
    workerData: { address, authkey: new Uint8Array(currentAuthkey()), port: port2 },
    transferList: [port2],
    name: "@ipc broker",
  });
  worker.unref();
  port1.unref();
  worker.on("error", (e) => {
    process.emitWarning(`@ipc broker thread failed: ${e instanceof Error ? e.message : e}`);
  });
  return { address, worker, port: port1, nextId: 1, exported: new WeakMap() };
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

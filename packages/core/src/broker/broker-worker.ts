/** Entry of the broker thread: serves objects registered by the home thread (see broker-server.ts). */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { BrokerServer } from "./broker-server.js";
import type { RegisterMessage } from "./protocol.js";
import "../locks/index.js";

const { address, authkey, port } = workerData as { address: string; authkey: Uint8Array; port: MessagePort };

const server = new BrokerServer({
  address,
  authkey: Buffer.from(authkey),
  drainRegistrations() {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) server.register(m.message as RegisterMessage);
  },
});
port.on("message", (m: RegisterMessage) => server.register(m));
server.listen().then(
  () => parentPort!.postMessage({ ready: true }),
  (e) => parentPort!.postMessage({ ready: false, error: String(e) }),
);

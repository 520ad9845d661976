/** Entry of an isolate's client thread: forwards its `*Sync` calls to home brokers (see remote-client.ts). */
import { workerData, type MessagePort } from "node:worker_threads";
import { deserialize } from "../codec/decoder.js";
import { serialize } from "../codec/encoder.js";
import { connectFramed } from "../transport/connect.js";
import type { FramedSocket } from "../transport/framed-socket.js";
import type { BrokerMessage } from "./protocol.js";
import type { ClientReply, ClientRequest } from "./remote-client.js";

const { port, syncPort, flag, authkey, partyId } = workerData as {
  port: MessagePort;
  syncPort: MessagePort;
  flag: Int32Array;
  authkey: Uint8Array;
  partyId: string;
};

interface Link {
  conn: Promise<FramedSocket>;
  calls: Map<number, boolean>; // id → sync
}
const links = new Map<string, Link>();

function answer(sync: boolean, reply: ClientReply): void {
  if (sync) {
    syncPort.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  } else port.postMessage(reply);
}

function link(address: string): Link {
  let l = links.get(address);
  if (l) return l;
  const calls = new Map<number, boolean>();
  const conn = connectFramed(address, { authkey: Buffer.from(authkey), retryFor: 10_000 }).then((c) => {
    // the same party as the isolate's own async connection
    c.send(serialize({ t: "party", id: partyId }));
    c.setHandler((frame) => {
      const msg = deserialize<BrokerMessage>(frame);
      const sync = calls.get(msg.id);
      if (sync === undefined) return;
      calls.delete(msg.id);
      answer(sync, { id: msg.id, frame });
    });
    c.onClose((error) => {
      links.delete(address);
      for (const [id, sync] of calls) answer(sync, { id, error: `lost the connection to the home of this object (${address})${error ? `: ${error.message}` : ""}` });
      calls.clear();
    });
    return c;
  });
  l = { conn, calls };
  links.set(address, l);
  conn.catch((e: Error) => {
    links.delete(address);
    for (const [id, sync] of calls) answer(sync, { id, error: `cannot reach the home of this object (${address}): ${e.name}: ${e.message}` });
    calls.clear();
  });
  return l;
}

// Never leave a caller blocked in a *Sync call: if this thread hits a bug, answer every pending
// call with the error before it dies.
process.on("uncaughtException", (error) => {
  for (const [address, l] of links) {
    for (const [id, sync] of l.calls) answer(sync, { id, error: `the @ipc client thread failed (${address}): ${error.message}` });
    l.calls.clear();
  }
});

port.on("message", (req: ClientRequest) => {
  const l = link(req.address);
  l.calls.set(req.id, req.sync === true);
  l.conn.then(
    (c) => c.send(serialize({ t: "call", id: req.id, obj: req.obj, m: req.m, a: req.a })),
    () => {},
  );
});

/**
 * Caller side of remote objects. Async calls go straight from this isolate over its own
 * authenticated connection to the home broker. `*Sync` calls cannot wait on a socket without
 * blocking the very event loop that would read it, so they go through this isolate's client
 * thread (client-worker.ts), blocking on a shared word until it has the answer, then taking it
 * with `receiveMessageOnPort`. Both connections announce the same party id, so the broker treats
 * them as one owner (an RLock taken by an async call may be released by a sync one).
 */
import { randomBytes } from "node:crypto";
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from "node:worker_threads";
import { formatAddress } from "../transport/address.js";
import { connectFramed } from "../transport/connect.js";
import type { FramedSocket } from "../transport/framed-socket.js";
import { deserialize } from "../codec/decoder.js";
import { serialize } from "../codec/encoder.js";
import { ClosedError } from "../errors/errors.js";
import { abortReason } from "../errors/validate.js";
import { beforeBlock } from "../memory/before-block.js";
import { createWorker, entryUrl } from "../entries.js";
import { currentAuthkey } from "../transport/authkey.js";
import type { BrokerMessage, RemoteRef } from "./protocol.js";

/** Isolate → client thread. */
export interface ClientRequest {
  t: "call";
  id: number;
  address: string;
  obj?: number;
  m?: string;
  a?: Uint8Array;
  sync?: boolean;
}

/** Client thread → isolate: the broker's reply frame, or a local failure (connection lost). */
export interface ClientReply {
  id: number;
  frame?: Uint8Array;
  error?: string;
}

function settle(reply: ClientReply): unknown {
  if (reply.error !== undefined) throw new ClosedError(reply.error);
  const msg = deserialize<BrokerMessage>(reply.frame!);
  if (msg.t === "err") throw msg.e;
  return deserialize(msg.v);
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** This isolate's own connection to one home broker, for async calls. */
interface DirectLink {
  conn: Promise<FramedSocket>;
  pending: Map<number, Pending>;
  socket?: FramedSocket;
}

/** The per-isolate client of remote objects. */
export class RemoteClient {
  /** Names this isolate to brokers, on every connection it opens. */
  readonly partyId = randomBytes(12).toString("hex");
  private readonly direct = new Map<string, DirectLink>();
  /** The client thread of `*Sync` calls, started on the first one. */
  private sync: { worker: Worker; port: MessagePort; syncPort: MessagePort } | undefined;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;

  private syncChannel(): { port: MessagePort; syncPort: MessagePort } {
    if (this.sync) return this.sync;
    const requests = new MessageChannel();
    const replies = new MessageChannel();
    const worker = createWorker(entryUrl("broker/client-worker"), {
      workerData: { port: requests.port2, syncPort: replies.port2, flag: this.flag, authkey: new Uint8Array(currentAuthkey()), partyId: this.partyId },
      transferList: [requests.port2, replies.port2],
      name: "@ipc client",
    });
    worker.unref();
    requests.port1.unref();
    this.sync = { worker, port: requests.port1, syncPort: replies.port1 };
    return this.sync;
  }

  /** This isolate's own connection to a broker, opened on first use. */
  private link(address: string): DirectLink {
    let l = this.direct.get(address);
    if (l) return l;
    const pending = new Map<number, Pending>();
    const fail = (why: string) => {
      this.direct.delete(address);
      for (const p of pending.values()) p.reject(new ClosedError(why));
      pending.clear();
    };
    const conn = connectFramed(address, { authkey: currentAuthkey(), retryFor: 10_000 }).then((c) => {
      c.send(serialize({ t: "party", id: this.partyId }));
      c.setHandler((frame) => {
        const msg = deserialize<BrokerMessage>(frame);
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (pending.size === 0) c.socket.unref();
        try {
          p.resolve(settle({ id: msg.id, frame }));
        } catch (e) {
          p.reject(e);
        }
      });
      c.onClose((error) => fail(`lost the connection to the home of this object (${formatAddress(address)})${error ? `: ${error.message}` : ""}`));
      if (pending.size === 0) c.socket.unref();
      l!.socket = c;
      return c;
    });
    conn.catch((e: Error) => fail(`cannot reach the home of this object (${formatAddress(address)}): ${e.name}: ${e.message}`));
    l = { conn, pending };
    this.direct.set(address, l);
    return l;
  }

  /** Calls `method` on the remote object. */
  call(ref: RemoteRef, method: string, args: unknown[], signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const id = this.nextId++;
    let a: Uint8Array;
    try {
      a = serialize(args);
    } catch (e) {
      return Promise.reject(e);
    }
    const l = this.link(ref.address);
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const done = () => signal && onAbort && signal.removeEventListener("abort", onAbort);
      l.pending.set(id, {
        resolve: (v) => {
          done();
          resolve(v);
        },
        reject: (e) => {
          done();
          // the home gave up because we cancelled: report our signal's reason
          reject(signal?.aborted ? abortReason(signal) : e);
        },
      });
      if (signal) {
        onAbort = () => {
          l.conn.then((c) => c.send(serialize({ t: "cancel", id })), () => {});
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      l.socket?.socket.ref();
      l.conn.then(
        (c) => {
          c.socket.ref();
          c.send(serialize({ t: "call", id, obj: ref.id, m: method, a }));
        },
        () => {},
      );
    });
  }

  /** Calls `method` on the remote object, blocking this thread until it answers. */
  callSync(ref: RemoteRef, method: string, args: unknown[]): unknown {
    const id = this.nextId++;
    const a = serialize(args);
    const { port, syncPort } = this.syncChannel();
    Atomics.store(this.flag, 0, 0);
    port.postMessage({ t: "call", id, address: ref.address, obj: ref.id, m: method, a, sync: true } satisfies ClientRequest);
    for (;;) {
      // in slices while this thread's buffered pipe sends move on (memory/before-block.ts)
      const r = Atomics.wait(this.flag, 0, 0, beforeBlock(Infinity));
      const got = receiveMessageOnPort(syncPort);
      if (got) return settle(got.message as ClientReply);
      // a slice that ran out saw the flag unset: clearing it now could lose a reply's
      if (r !== "timed-out") Atomics.store(this.flag, 0, 0);
    }
  }
}

let client: RemoteClient | undefined;

/** This isolate's remote client, started on first use. */
export function remoteClient(): RemoteClient {
  client ??= new RemoteClient();
  return client;
}

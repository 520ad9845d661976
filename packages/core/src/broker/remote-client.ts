/**
 * Caller side of remote objects: every call to an object whose home is another process goes
 * through this isolate's client thread (client-worker.ts), which holds one authenticated
 * connection per home broker. Async calls await a message; `*Sync` calls block this thread on a
 * shared word until the client thread has the answer, then take it with `receiveMessageOnPort`.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from "node:worker_threads";
import { deserialize } from "../codec/decoder.js";
import { serialize } from "../codec/encoder.js";
import { ClosedError } from "../errors/errors.js";
import { abortReason } from "../errors/validate.js";
import { createWorker, entryUrl } from "../entries.js";
import { currentAuthkey } from "../transport/authkey.js";
import type { BrokerMessage, RemoteRef } from "./protocol.js";

/** Isolate → client thread. */
export interface ClientRequest {
  t: "call" | "cancel";
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

/** The per-isolate client of remote objects. */
export class RemoteClient {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly syncPort: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;

  constructor() {
    const async = new MessageChannel();
    const sync = new MessageChannel();
    this.port = async.port1;
    this.syncPort = sync.port1;
    this.worker = createWorker(entryUrl("broker/client-worker"), {
      workerData: { port: async.port2, syncPort: sync.port2, flag: this.flag, authkey: new Uint8Array(currentAuthkey()) },
      transferList: [async.port2, sync.port2],
      name: "@ipc client",
    });
    this.worker.unref();
    this.port.unref();
    this.port.on("message", (reply: ClientReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.port.unref();
      try {
        p.resolve(settle(reply));
      } catch (e) {
        p.reject(e);
      }
    });
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
    return new Promise((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const done = () => signal && onAbort && signal.removeEventListener("abort", onAbort);
      this.pending.set(id, {
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
          this.port.postMessage({ t: "cancel", id, address: ref.address } satisfies ClientRequest);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      if (this.pending.size === 1) this.port.ref();
      this.port.postMessage({ t: "call", id, address: ref.address, obj: ref.id, m: method, a } satisfies ClientRequest);
    });
  }

  /** Calls `method` on the remote object, blocking this thread until it answers. */
  callSync(ref: RemoteRef, method: string, args: unknown[]): unknown {
    const id = this.nextId++;
    const a = serialize(args);
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ t: "call", id, address: ref.address, obj: ref.id, m: method, a, sync: true } satisfies ClientRequest);
    for (;;) {
      Atomics.wait(this.flag, 0, 0);
      const got = receiveMessageOnPort(this.syncPort);
      if (got) return settle(got.message as ClientReply);
      Atomics.store(this.flag, 0, 0);
    }
  }
}

let client: RemoteClient | undefined;

/** This isolate's remote client, started on first use. */
export function remoteClient(): RemoteClient {
  client ??= new RemoteClient();
  return client;
}

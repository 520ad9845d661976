/**
 * The broker: serves the shared objects of one home process to other processes. It runs in a
 * dedicated worker thread of the home (broker-worker.ts), so it keeps serving while the home's
 * main thread is blocked in a `*Sync` call. Each connection is one remote party (an isolate of
 * another process) with its own owner id; when it disconnects, the locks it holds are released.
 */
import type { Server } from "node:net";
import { deserialize } from "../codec/decoder.js";
import { serialize } from "../codec/encoder.js";
import { IpcError } from "../errors/errors.js";
import type { SharedObject } from "../objects/shared-object.js";
import { REMOTE_OWNER_BASE } from "../memory/isolate-id.js";
import { listenFramed } from "../transport/connect.js";
import type { FramedSocket } from "../transport/framed-socket.js";
import type { BrokerMessage, ClientMessage, RegisterMessage } from "./protocol.js";

/** How often the broker forgets objects nobody can reach any more (ms). */
const SWEEP_MS = 5000;
/** Calls of one connection in progress at once; past it the broker reads no more of its frames. */
const MAX_CALLS = 256;
/** Reply bytes waiting for a connection's peer to read them, past which the broker reads no more of its frames. */
const REPLY_HIGH_WATER = 4 * 1024 * 1024;

/** Options of {@link BrokerServer}. */
export interface BrokerServerOptions {
  address: string;
  authkey: Buffer;
  /** Called to pull registrations that were posted but not yet delivered. */
  drainRegistrations?: () => void;
  /** Connections rejected by the handshake or the framing (for logs and tests). */
  onRejected?: (error: Error) => void;
}

/** Serves registered objects over authenticated framed connections. */
export class BrokerServer {
  private readonly objects = new Map<number, SharedObject>();
  private nextOwner = REMOTE_OWNER_BASE;
  private server: Server | undefined;
  /** Connections currently open. */
  readonly connections = new Set<FramedSocket>();

  constructor(private readonly options: BrokerServerOptions) {}

  async listen(): Promise<void> {
    this.server = await listenFramed(this.options.address, {
      authkey: this.options.authkey,
      onConnection: (conn) => this.accept(conn),
      onRejected: this.options.onRejected,
    });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  private sweeper: NodeJS.Timeout | undefined;

  /** Forgets the objects that are {@link SharedObject.finished}; returns how many it forgot. */
  sweep(): number {
    let n = 0;
    for (const [id, obj] of this.objects) {
      if (!obj.finished()) continue;
      this.objects.delete(id);
      n++;
    }
    return n;
  }

  /** Objects currently served. */
  get size(): number {
    return this.objects.size;
  }

  /** Calls in progress, over all connections (each connection has at most `MAX_CALLS`). */
  get calls(): number {
    return this.inProgress;
  }

  private inProgress = 0;

  /** Adds an object sent by the home thread. */
  register(msg: RegisterMessage): void {
    const obj = deserialize<SharedObject>(msg.bytes, { shared: msg.shared });
    this.objects.set(msg.id, obj);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.server?.close();
    for (const c of this.connections) c.close();
  }

  private lookup(id: number): SharedObject {
    let obj = this.objects.get(id);
    if (!obj) {
      this.options.drainRegistrations?.();
      obj = this.objects.get(id);
    }
    if (!obj) throw new IpcError(`no shared object with id ${id} in this broker`);
    return obj;
  }

  /** Parties (isolates of other processes) by their id: one owner id shared by all their connections. */
  private readonly parties = new Map<string, { owner: number; connections: number; touched: Set<SharedObject> }>();

  private accept(conn: FramedSocket): void {
    // until a connection names its party, it is a party of its own
    let party = { owner: this.nextOwner++, connections: 1, touched: new Set<SharedObject>() };
    let partyId: string | undefined;
    const pending = new Map<number, AbortController>();
    this.connections.add(conn);
    // memory per connection is bounded: past MAX_CALLS calls in progress, or replies its peer does
    // not read, the socket is paused (the peer's writes back up into its own buffers)
    let paused = false;
    let calls = 0;
    const throttle = () => {
      if (conn.closed) return;
      const over = calls >= MAX_CALLS || conn.socket.writableLength > REPLY_HIGH_WATER;
      if (over === paused) return;
      paused = over;
      if (over) conn.socket.pause();
      else conn.socket.resume();
    };
    conn.socket.on("drain", throttle);
    const reply = (msg: BrokerMessage) => {
      if (!conn.closed) conn.send(serialize(msg));
    };
    conn.setHandler((frame) => {
      const msg = deserialize<ClientMessage | { t: "party"; id: string }>(frame);
      if (msg?.t === "party" && typeof msg.id === "string" && partyId === undefined) {
        partyId = msg.id;
        const known = this.parties.get(partyId);
        if (known) {
          known.connections++;
          party = known;
        } else this.parties.set(partyId, party);
        return;
      }
      if (msg?.t === "attach" && typeof msg.obj === "number" && Array.isArray(msg.a)) {
        const obj = this.lookup(msg.obj);
        party.touched.add(obj);
        obj.attach(conn, msg.a, party.owner);
        return;
      }
      if (msg?.t === "cancel") {
        pending.get(msg.id)?.abort(new IpcError("cancelled by the caller"));
        return;
      }
      if (msg?.t !== "call" || typeof msg.id !== "number") throw new IpcError("broker: unknown message");
      const controller = new AbortController();
      pending.set(msg.id, controller);
      this.inProgress++;
      calls++;
      throttle();
      const owner = party.owner;
      const touched = party.touched;
      (async () => {
        const obj = this.lookup(msg.obj);
        touched.add(obj);
        const args = deserialize<unknown[]>(msg.a);
        return obj.serve(msg.m, args, owner, controller.signal);
      })()
        .then(
          (v) => {
            try {
              reply({ t: "ok", id: msg.id, v: serialize(v) });
            } catch (e) {
              reply({ t: "err", id: msg.id, e });
            }
          },
          (e) => reply({ t: "err", id: msg.id, e }),
        )
        .finally(() => {
          if (pending.get(msg.id) === controller) pending.delete(msg.id);
          this.inProgress--;
          calls--;
          throttle();
        });
    });
    conn.onClose(() => {
      this.connections.delete(conn);
      for (const c of pending.values()) c.abort(new IpcError("the remote party disconnected"));
      // the party is gone when its last connection is: release what it holds, once its aborted
      // waits have unwound
      if (--party.connections > 0) return;
      if (partyId !== undefined) this.parties.delete(partyId);
      const { owner, touched } = party;
      setImmediate(() => {
        for (const obj of touched) {
          try {
            obj.releaseOwner(owner);
          } catch {
            // already released
          }
        }
      });
    });
  }
}

/**
 * The manager server: holds the objects and runs the methods clients call on them. Every request
 * is decoded as a network peer's message (data only: no module is loaded, no handle but a proxy
 * reference is revived), and only the exposed methods of registered types run.
 */
import type { Server } from "node:net";
import { deserialize, IpcError, listenFramed, serialize, type Address, type FramedSocket } from "@ipc/core";
import { DICT_EXPOSED, LIST_EXPOSED, ManagedDict, ManagedList, ManagedNamespace, NAMESPACE_EXPOSED } from "./builtins.js";
import type { Reply, Request } from "./protocol.js";
import { publicMethods, typesOf, type ManagedType } from "./registry.js";

/** Reply bytes a client leaves unread past which the server stops reading from it. */
const REPLY_HIGH_WATER = 4 * 1024 * 1024;

/** The built-in types of every manager. */
const BUILTINS: Record<string, ManagedType> = {
  dict: { factory: (init?: Iterable<[unknown, unknown]> | Record<string, unknown>) => new ManagedDict(init), exposed: DICT_EXPOSED },
  list: { factory: (init?: Iterable<unknown>) => new ManagedList(init), exposed: LIST_EXPOSED },
  Namespace: { factory: (init?: Record<string, unknown>) => new ManagedNamespace(init), exposed: NAMESPACE_EXPOSED },
};

/** Options of {@link ManagerServer}. */
export interface ManagerServerOptions {
  address: Address;
  authkey: Buffer;
  /** Whose registered types it serves (a manager class name). */
  owner: string;
}

/** Serves the objects of one manager. */
export class ManagerServer {
  readonly #objects = new Map<number, { obj: object; type: ManagedType; typeid: string }>();
  #nextId = 1;
  #server: Server | undefined;
  readonly #connections = new Set<FramedSocket>();
  #stopped: (() => void) | undefined;
  /** Resolves once the server has shut down. */
  readonly done: Promise<void>;

  constructor(private readonly options: ManagerServerOptions) {
    this.done = new Promise((r) => (this.#stopped = r));
  }

  /** Starts listening; resolves with the bound address (a TCP port of 0 becomes the real one). */
  async listen(): Promise<Address> {
    this.#server = await listenFramed(this.options.address, { authkey: this.options.authkey, onConnection: (c) => this.#accept(c) });
    const bound = this.#server.address();
    return typeof bound === "object" && bound !== null ? { host: bound.address, port: bound.port } : this.options.address;
  }

  #type(typeid: string): ManagedType {
    const t = BUILTINS[typeid] ?? typesOf(this.options.owner).get(typeid);
    if (!t) throw new IpcError(`this manager has no type "${typeid}"`);
    return t;
  }

  #accept(conn: FramedSocket): void {
    this.#connections.add(conn);
    let paused = false;
    const throttle = () => {
      const over = conn.socket.writableLength > REPLY_HIGH_WATER;
      if (over === paused || conn.closed) return;
      paused = over;
      if (over) conn.socket.pause();
      else conn.socket.resume();
    };
    conn.socket.on("drain", throttle);
    const reply = (r: Reply) => {
      if (conn.closed) return;
      let bytes: Uint8Array;
      try {
        bytes = serialize(r);
      } catch (e) {
        bytes = serialize({ t: "err", id: r.id, e } satisfies Reply);
      }
      conn.send(bytes);
      throttle();
    };
    conn.setHandler((frame) => {
      const req = deserialize<Request>(frame, { peer: true });
      if (typeof req !== "object" || req === null || typeof req.id !== "number") throw new IpcError("manager: malformed request");
      void this.#handle(req).then(
        (v) => reply({ t: "ok", id: req.id, v }),
        (e: unknown) => reply({ t: "err", id: req.id, e }),
      );
    });
    conn.onClose(() => this.#connections.delete(conn));
  }

  async #handle(req: Request): Promise<unknown> {
    switch (req.t) {
      case "create": {
        const type = this.#type(String(req.typeid));
        const obj = type.factory(...(Array.isArray(req.args) ? req.args : []));
        const id = this.#nextId++;
        this.#objects.set(id, { obj, type, typeid: req.typeid });
        return id;
      }
      case "call": {
        const entry = this.#objects.get(req.obj);
        if (!entry) throw new IpcError(`no object ${req.obj} in this manager`);
        const m = String(req.m);
        const exposed = entry.type.exposed.length > 0 ? entry.type.exposed : publicMethods(entry.obj);
        if (!exposed.includes(m)) throw new IpcError(`method "${m}" of ${entry.typeid} is not exposed`);
        const fn = (entry.obj as Record<string, unknown>)[m];
        if (typeof fn !== "function") throw new IpcError(`${entry.typeid} has no method "${m}"`);
        return await (fn as (...a: unknown[]) => unknown).apply(entry.obj, Array.isArray(req.args) ? req.args : []);
      }
      case "shutdown":
        setImmediate(() => this.close());
        return null;
      default:
        throw new IpcError("manager: unknown request");
    }
  }

  /** Stops serving: closes the listener and every connection (their pending calls fail). */
  close(): void {
    this.#server?.close();
    for (const c of this.#connections) c.close();
    this.#stopped?.();
  }

  /** Objects currently held. */
  get size(): number {
    return this.#objects.size;
  }
}

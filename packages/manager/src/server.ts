/**
 * The manager server: holds the objects and runs the methods clients call on them. Every request
 * is decoded as a network peer's message (data only: no module is loaded, no handle but a proxy
 * reference is revived), and only the exposed methods of registered types run.
 *
 * References are counted per client connection (Python's `incref`/`decref`): `create` gives the
 * creating client one, each proxy of this server inside a reply gives the receiving client one,
 * clients take and give back more (`incref`/`decref`: proxies handed to children, collected or
 * released), and a proxy of this server stored inside one of its objects holds one for the
 * server itself until that proxy is collected. A connection that closes gives back all of its
 * own. An object whose count reaches 0 is deleted. A client can give back only what it holds.
 */
import type { Server } from "node:net";
import { deserialize, IpcError, serialize } from "@ipc/core";
import { listenFramed, serveExposed, type Address, type FramedSocket } from "@ipc/core/internal";
import { ManagedDict, ManagedList, ManagedNamespace } from "./builtins.js";
import type { Reply, Request } from "./protocol.js";
import { BaseProxy } from "./base-proxy.js";
import type { ProxyRef } from "./protocol.js";
import { withRefScope } from "./ref-scope.js";
import { publicMethods, typesOf, type ManagedType } from "./registry.js";
import { ManagedBarrier } from "./served/barrier.js";
import { RELEASE, servedMethods, type CallContext, type HoldsForClients, type Served } from "./served/call-context.js";
import { ManagedCondition } from "./served/condition.js";
import { ManagedEvent } from "./served/event.js";
import { ManagedLock } from "./served/lock.js";
import { ManagedQueue } from "./served/queue.js";
import { ManagedSemaphore } from "./served/semaphore.js";
import { ManagedArray, ManagedValue } from "./served/value.js";

/** Reply bytes a client leaves unread past which the server stops reading from it. */
const REPLY_HIGH_WATER = 4 * 1024 * 1024;

/** A built-in type: made from the request's arguments; `local` finds an object of this server a proxy argument refers to. */
interface BuiltinType {
  make: (args: unknown[], local: (p: unknown) => object | undefined) => object;
  exposed: Served<object>;
}

/** The built-in types of every manager (SyncManager's methods create them). */
const BUILTINS: Record<string, BuiltinType> = {
  dict: { make: (a) => new ManagedDict(a[0] as Iterable<[unknown, unknown]> | undefined), exposed: ManagedDict.exposed },
  list: { make: (a) => new ManagedList(a[0] as Iterable<unknown> | undefined), exposed: ManagedList.exposed },
  Namespace: { make: (a) => new ManagedNamespace(a[0] as Record<string, unknown> | undefined), exposed: ManagedNamespace.exposed },
  Queue: { make: (a) => new ManagedQueue(a[0] ?? 0), exposed: ManagedQueue.exposed as Served<object> },
  JoinableQueue: { make: (a) => new ManagedQueue(a[0] ?? 0), exposed: ManagedQueue.exposed as Served<object> },
  Lock: { make: () => new ManagedLock(false), exposed: ManagedLock.exposed as Served<object> },
  RLock: { make: () => new ManagedLock(true), exposed: ManagedLock.exposed as Served<object> },
  Semaphore: { make: (a) => new ManagedSemaphore(a[0] ?? 1), exposed: ManagedSemaphore.exposed as Served<object> },
  BoundedSemaphore: { make: (a) => new ManagedSemaphore(a[0] ?? 1, true), exposed: ManagedSemaphore.exposed as Served<object> },
  Condition: {
    make: (a, local) => {
      if (a[0] === undefined || a[0] === null) return new ManagedCondition();
      const lock = local(a[0]);
      if (!(lock instanceof ManagedLock)) throw new TypeError("a manager Condition's lock must be a Lock or RLock of the same manager");
      return new ManagedCondition(lock);
    },
    exposed: ManagedCondition.exposed as Served<object>,
  },
  Event: { make: () => new ManagedEvent(), exposed: ManagedEvent.exposed as Served<object> },
  Barrier: { make: (a) => new ManagedBarrier(a[0], a[1]), exposed: ManagedBarrier.exposed as Served<object> },
  Value: { make: (a) => new ManagedValue(a[0] as string, a[1]), exposed: ManagedValue.exposed },
  Array: { make: (a) => new ManagedArray(a[0] as string, a[1]), exposed: ManagedArray.exposed },
};

/** The built-in typeid of a served synchronization object or container, if `obj` is one. */
function builtinOf(obj: object): string | undefined {
  if (obj instanceof ManagedQueue) return "Queue";
  if (obj instanceof ManagedLock) return obj.reentrant ? "RLock" : "Lock";
  if (obj instanceof ManagedSemaphore) return obj.bounded ? "BoundedSemaphore" : "Semaphore";
  if (obj instanceof ManagedCondition) return "Condition";
  if (obj instanceof ManagedEvent) return "Event";
  if (obj instanceof ManagedBarrier) return "Barrier";
  if (obj instanceof ManagedValue) return "Value";
  if (obj instanceof ManagedArray) return "Array";
  if (obj instanceof ManagedDict) return "dict";
  if (obj instanceof ManagedList) return "list";
  if (obj instanceof ManagedNamespace) return "Namespace";
  return undefined;
}

/** The served table of each registered type with an `exposed` list, and of each class served by its public methods. */
const servedTables = new WeakMap<object, Served<object>>();

/**
 * The methods a client may call on `obj`, made by registered type `type` (every built-in object is
 * served as its built-in type): its `exposed` list, else the public methods of `obj`'s class;
 * made once per type or class.
 */
function servedFor(type: ManagedType, obj: object): Served<object> {
  const owner = type.exposed.length > 0 ? type : (Object.getPrototypeOf(obj) as object | null) ?? obj;
  let table = servedTables.get(owner);
  if (!table) servedTables.set(owner, (table = servedMethods(type.exposed.length > 0 ? type.exposed : publicMethods(obj))));
  return table;
}

/** In-flight calls a client may have at once; past it the server stops reading from it until some end. */
const MAX_IN_FLIGHT = 1024;

/** Options of {@link ManagerServer}. */
export interface ManagerServerOptions {
  address: Address;
  authkey: Buffer;
  /** Whose registered types it serves (a manager class name). */
  owner: string;
}

/** The client id under which the server's own references (proxies stored in its objects) are counted. */
const SERVER = 0;
/** Largest count one incref or decref pair may carry. */
const MAX_REF_STEP = 1 << 20;

/** Serves the objects of one manager. */
export class ManagerServer {
  readonly #objects = new Map<number, { obj: object; exposed: Served<object>; typeid: string; refs: number }>();
  /** References held, per client (SERVER for the server's own), per object. */
  readonly #holds = new Map<number, Map<number, number>>();
  /** Gives back the server's reference of a stored proxy once that proxy is collected. */
  readonly #stored = new FinalizationRegistry<number>((id) => this.#hold(SERVER, id, -1));
  #nextId = 1;
  #nextClient = 1;
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
    this.#address = typeof bound === "object" && bound !== null ? { host: bound.address, port: bound.port } : this.options.address;
    return this.#address;
  }

  #address: Address | undefined;

  #type(typeid: string): ManagedType | BuiltinType {
    const t = typesOf(this.options.owner).get(typeid) ?? (Object.hasOwn(BUILTINS, typeid) ? BUILTINS[typeid] : undefined);
    if (!t) throw new IpcError(`this manager has no type "${typeid}"`);
    return t;
  }

  /** True when `ref` refers to an object of this server. */
  #mine(ref: ProxyRef): boolean {
    const here = this.#address;
    const there = ref.address;
    return typeof here === "string" ? there === here : typeof there === "object" && there.port === here?.port;
  }

  /**
   * Changes the references `client` holds to object `id` by `n` (a client cannot give back more
   * than it holds); deletes the object when none is left.
   */
  #hold(client: number, id: number, n: number): void {
    const entry = this.#objects.get(id);
    if (!entry) return;
    let mine = this.#holds.get(client);
    if (!mine) this.#holds.set(client, (mine = new Map()));
    const had = mine.get(id) ?? 0;
    const now = Math.max(0, had + n);
    if (now === 0) mine.delete(id);
    else mine.set(id, now);
    entry.refs += now - had;
    if (entry.refs <= 0) this.#objects.delete(id);
  }

  /** Applies an incref/decref message's `[object, n]` pairs (malformed ones are refused). */
  #holdAll(client: number, refs: unknown, sign: 1 | -1): void {
    if (!Array.isArray(refs) || refs.length > MAX_IN_FLIGHT) throw new IpcError("manager: malformed reference update");
    for (const pair of refs) {
      const [id, n] = Array.isArray(pair) ? (pair as unknown[]) : [];
      if (!Number.isInteger(id) || !Number.isInteger(n) || (n as number) < 1 || (n as number) > MAX_REF_STEP) throw new IpcError("manager: malformed reference update");
      this.#hold(client, id as number, sign * (n as number));
    }
  }

  /** The object of this server a proxy (revived from a request) refers to. */
  #local(p: unknown): object | undefined {
    if (!(p instanceof BaseProxy)) return undefined;
    return this.#mine(p.ref) ? this.#objects.get(p.ref.id)?.obj : undefined;
  }

  #accept(conn: FramedSocket): void {
    this.#connections.add(conn);
    const client = this.#nextClient++;
    const closed = new AbortController();
    // calls running now; the controller that cancels one is made when the call first needs its signal
    const inFlight = new Map<number, AbortController | null>();
    let paused = false;
    const throttle = () => {
      const over = conn.socket.writableLength > REPLY_HIGH_WATER || inFlight.size >= MAX_IN_FLIGHT;
      if (over === paused || conn.closed) return;
      paused = over;
      if (over) conn.socket.pause();
      else conn.socket.resume();
    };
    conn.socket.on("drain", throttle);
    // a proxy of this server inside a reply is counted for the client receiving it
    const replyScope = {
      sent: (ref: ProxyRef) => {
        if (!this.#mine(ref)) return false;
        this.#hold(client, ref.id, 1);
        return true;
      },
      revived: () => false,
    };
    // a proxy of this server inside a request (to be stored in a container) is counted for the server
    const requestScope = {
      sent: () => false,
      revived: (ref: ProxyRef, proxy: object) => {
        if (!this.#mine(ref)) return false;
        this.#hold(SERVER, ref.id, 1);
        this.#stored.register(proxy, ref.id);
        return true;
      },
    };
    const reply = (r: Reply) => {
      inFlight.delete(r.id);
      if (conn.closed) return;
      let bytes: Uint8Array;
      try {
        bytes = withRefScope(replyScope, () => serialize(r));
      } catch (e) {
        bytes = serialize({ t: "err", id: r.id, e } satisfies Reply);
      }
      conn.send(bytes);
      throttle();
    };
    conn.setHandler((frame) => {
      const req = withRefScope(requestScope, () => deserialize<Request>(frame, { peer: true }));
      if (typeof req !== "object" || req === null || typeof req.id !== "number") throw new IpcError("manager: malformed request");
      if (req.t === "cancel") {
        if (!inFlight.has(req.id)) return;
        let cancel = inFlight.get(req.id);
        if (!cancel) inFlight.set(req.id, (cancel = new AbortController()));
        cancel.abort(new IpcError("the call was cancelled"));
        return;
      }
      if (req.t === "incref" || req.t === "decref") {
        this.#holdAll(client, req.refs, req.t === "incref" ? 1 : -1);
        return;
      }
      const id = req.id;
      inFlight.set(id, null);
      // the signals are made only by the calls that wait (most calls never read them)
      let signal: AbortSignal | undefined;
      const ctx: CallContext = {
        client,
        get signal() {
          if (signal) return signal;
          let cancel = inFlight.get(id);
          if (!cancel) inFlight.set(id, (cancel = new AbortController()));
          return (signal = AbortSignal.any([cancel.signal, closed.signal]));
        },
        closed: closed.signal,
      };
      throttle();
      // most methods return at once: their reply goes out without a turn through a promise
      let result: unknown;
      try {
        result = this.#handle(req, ctx);
      } catch (e) {
        reply({ t: "err", id, e });
        return;
      }
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === "function") {
        (result as PromiseLike<unknown>).then(
          (v: unknown) => reply({ t: "ok", id, v }),
          (e: unknown) => reply({ t: "err", id, e }),
        );
      } else reply({ t: "ok", id, v: result });
    });
    conn.onClose(() => {
      this.#connections.delete(conn);
      // its waits end, and what it held (locks) is let go of
      closed.abort(new IpcError("the client disconnected"));
      for (const { obj } of this.#objects.values()) (obj as Partial<HoldsForClients>)[RELEASE]?.(client);
      // and every reference it held is given back
      for (const [id, n] of [...(this.#holds.get(client) ?? [])]) this.#hold(client, id, -n);
      this.#holds.delete(client);
    });
  }

  /** Runs one request: its result, or a promise of it for a call that waits. */
  #handle(req: Request, ctx: CallContext): unknown {
    switch (req.t) {
      case "create": {
        const typeid = String(req.typeid);
        const type = this.#type(typeid);
        const args = Array.isArray(req.args) ? req.args : [];
        const obj = "make" in type ? type.make(args, (p) => this.#local(p)) : type.factory(...args);
        if (typeof obj !== "object" || obj === null) throw new TypeError(`the factory of "${typeid}" did not return an object`);
        // a registered factory may hand out a served Queue, Lock... (Python's remote-manager
        // example): it is served, and proxied, as that built-in type
        const builtin = builtinOf(obj);
        const exposed = builtin ? BUILTINS[builtin].exposed : servedFor(type as ManagedType, obj);
        const id = this.#nextId++;
        this.#objects.set(id, { obj, exposed, typeid, refs: 0 });
        this.#hold(ctx.client, id, 1);
        return { id, typeid: builtin ?? typeid };
      }
      case "call": {
        const entry = this.#objects.get(req.obj);
        if (!entry) throw new IpcError(`no object ${req.obj} in this manager`);
        const args = Array.isArray(req.args) ? req.args : [];
        return serveExposed(entry.exposed, entry.typeid, entry.obj, String(req.m), args, ctx);
      }
      case "count":
        return this.#objects.size;
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

/**
 * BaseManager, SyncManager and Manager(), as Python's `multiprocessing.managers`: a server (in a
 * child by default) holds objects, and proxies call their methods from any thread or process.
 */
import { currentAuthkey, Event, InvalidStateError } from "@ipc/core";
import { checkSignal, loadModule, privateAddress, toAuthkey, type Address } from "@ipc/core/internal";
import { Process, type Context } from "@ipc/process";
import { dropManagerLink, managerCall, setManagerAuthkey } from "./client.js";
import { DictProxy, ListProxy, proxyFor, type BaseProxy, type NamespaceAttributes, type Proxy } from "./proxy.js";
import type { ArrayProxy, ValueProxy } from "./proxies/value-proxies.js";
import type { BarrierProxy, EventProxy } from "./proxies/event-proxies.js";
import type { ConditionProxy, LockProxy, SemaphoreProxy } from "./proxies/lock-proxies.js";
import type { QueueProxy } from "./proxies/queue-proxy.js";
import { typesOf } from "./registry.js";
import { ManagerServer } from "./server.js";
import { ownReference } from "./base-proxy.js";

/** Options of a manager. */
export interface ManagerOptions {
  /** Where the server listens: a Unix socket path, or `{ host, port }` for TCP (port 0: any). Default: a private socket of this process tree. */
  address?: Address;
  /** Secret clients must prove they know. Default: this process tree's authkey. */
  authkey?: Uint8Array | string;
  /** Where `start()` runs the server: `'process'` (default, as Python) or `'thread'`. */
  context?: Context;
}

/** Options of {@link BaseManager.start}. */
export interface StartOptions {
  /** A module the server imports first (the one that calls `register`, for your own types). */
  module?: string | URL;
  /** How long to wait for the server to be ready (ms); default 30 s. */
  timeout?: number;
}

/** What the server child runs (exported for the child's bootstrap). */
export async function runManagerServer(opts: { address: Address; authkey: Uint8Array; owner: string; module?: string; ready: Event }): Promise<void> {
  if (opts.module) await loadModule(opts.module);
  const server = new ManagerServer({ address: opts.address, authkey: Buffer.from(opts.authkey), owner: opts.owner });
  await server.listen();
  opts.ready.set();
  await server.done;
}

/** A manager: starts or connects to a server, creates objects there and returns proxies. */
export class BaseManager {
  #address: Address;
  readonly #authkey: Buffer;
  readonly #context: Context;
  #server: Process | ManagerServer | undefined;
  #state: "initial" | "started" | "connected" | "shutdown" = "initial";

  /**
   * Registers a type this manager class serves: `factory(...args)` makes the object on the server,
   * and a proxy may call the methods in `exposed` (default: its public methods). Call it at the top
   * level of a module the server imports (`start({ module })`).
   */
  static register(typeid: string, factory: (...args: any[]) => object, opts: { exposed?: string[] } = {}): void {
    if (typeof typeid !== "string" || typeid.length === 0) throw new TypeError("Expected `typeid` to be a non-empty string");
    if (typeof factory !== "function") throw new TypeError("Expected `factory` to be a function");
    if (opts.exposed !== undefined && !Array.isArray(opts.exposed)) throw new TypeError("Expected `exposed` to be an array of method names");
    typesOf(this.name).set(typeid, { factory, exposed: opts.exposed ?? [] });
  }

  constructor(opts: ManagerOptions = {}) {
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object");
    this.#address = opts.address ?? privateAddress("ipc-manager");
    this.#authkey = opts.authkey === undefined ? currentAuthkey() : toAuthkey(opts.authkey);
    this.#context = opts.context ?? "process";
  }

  /** Where the server listens. */
  get address(): Address {
    return this.#address;
  }

  /** Starts the server in a child (`context`) and resolves once it serves. */
  async start(opts: StartOptions = {}): Promise<void> {
    if (this.#state !== "initial") throw new InvalidStateError(`the manager is already ${this.#state}`);
    const ready = new Event();
    const module = opts.module === undefined ? undefined : String(opts.module);
    const child = new Process({
      module: import.meta.url,
      target: "runManagerServer",
      args: [{ address: this.#address, authkey: new Uint8Array(this.#authkey), owner: this.constructor.name, module, ready }],
      context: this.#context,
      daemon: true,
      name: `${this.constructor.name}-server`,
    });
    child.start();
    const exited = child.join().then(() => {
      throw new InvalidStateError(`the manager server exited (code ${child.exitCode}) before it was ready`);
    });
    await Promise.race([ready.wait({ timeout: opts.timeout ?? 30_000 }), exited]);
    if (!ready.isSet()) throw new InvalidStateError("the manager server was not ready in time");
    this.#server = child;
    this.#state = "started";
  }

  /** Connects to a server that runs already (started elsewhere, e.g. on another machine). */
  async connect(): Promise<void> {
    if (this.#state !== "initial") throw new InvalidStateError(`the manager is already ${this.#state}`);
    this.#state = "connected";
  }

  /**
   * Runs the server in this process until `shutdown()` or `signal`. `onReady` is called once it
   * listens, with its address (a TCP port of 0 becomes the real one).
   */
  async serveForever(opts: { signal?: AbortSignal; onReady?: (address: Address) => void } = {}): Promise<void> {
    if (this.#state !== "initial") throw new InvalidStateError(`the manager is already ${this.#state}`);
    const signal = checkSignal(opts.signal);
    const server = new ManagerServer({ address: this.#address, authkey: this.#authkey, owner: this.constructor.name });
    this.#address = await server.listen();
    setManagerAuthkey(this.#address, this.#authkey);
    this.#server = server;
    this.#state = "started";
    signal?.addEventListener("abort", () => server.close(), { once: true });
    opts.onReady?.(this.#address);
    await server.done;
  }

  /** Creates an object of `typeid` on the server and returns its proxy. */
  async create<T = unknown>(typeid: string, ...args: unknown[]): Promise<Proxy<T>> {
    this.#usable();
    const made = (await managerCall(this.#address, { t: "create", typeid, args }, this.#authkey)) as { id: number; typeid: string };
    const proxy = proxyFor({ address: this.#address, id: made.id, typeid: made.typeid }, this.#authkey);
    ownReference(proxy, "counted");
    return proxy as Proxy<T>;
  }

  /**
   * How many objects the server holds now (Python's `_number_of_objects()`): an object is deleted
   * once no proxy, container or connected client refers to it.
   */
  async numberOfObjects(): Promise<number> {
    this.#usable();
    return (await managerCall(this.#address, { t: "count" }, this.#authkey)) as number;
  }

  /** @internal a built-in proxy. */
  protected builtin<P extends BaseProxy>(typeid: string, args: unknown[]): Promise<P> {
    return this.create(typeid, ...args) as Promise<unknown> as Promise<P>;
  }

  #usable(): void {
    if (this.#state === "initial") throw new InvalidStateError("start() or connect() the manager first");
    if (this.#state === "shutdown") throw new InvalidStateError("the manager is shut down");
  }

  /** Stops the server (its clients' pending calls fail) and waits for a server child to exit. */
  async shutdown(): Promise<void> {
    if (this.#state === "shutdown" || this.#state === "initial") return;
    const server = this.#server;
    this.#state = "shutdown";
    if (server instanceof ManagerServer) server.close();
    else {
      await managerCall(this.#address, { t: "shutdown" }, this.#authkey).catch(() => {});
      dropManagerLink(this.#address);
      if (server) await server.join({ timeout: 10_000 });
      if (server?.isAlive()) server.kill();
    }
  }

  /** `await using m = await Manager()`: shuts the manager down. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/** Python's SyncManager: dicts, lists and namespaces (and your registered types). */
export class SyncManager extends BaseManager {
  /** A new dict on the server. */
  dict<K = unknown, V = unknown>(init?: Map<K, V> | Iterable<[K, V]> | Record<string, V>): Promise<DictProxy<K, V>> {
    const arg = init === undefined ? [] : [init instanceof Map ? [...init] : Symbol.iterator in Object(init) ? [...(init as Iterable<[K, V]>)] : init];
    return this.builtin<DictProxy<K, V>>("dict", arg);
  }

  /** A new list on the server. */
  list<T = unknown>(init?: Iterable<T>): Promise<ListProxy<T>> {
    return this.builtin<ListProxy<T>>("list", init === undefined ? [] : [[...init]]);
  }

  /** A new Namespace on the server: `await ns.x`, `ns.x = 1`, or `get`/`set`. */
  Namespace(init?: Record<string, unknown>): Promise<NamespaceAttributes> {
    return this.builtin<NamespaceAttributes>("Namespace", init === undefined ? [] : [init]);
  }

  /** A new queue on the server (`maxSize` 0: unbounded). */
  Queue<T = unknown>(maxSize = 0): Promise<QueueProxy<T>> {
    return this.builtin<QueueProxy<T>>("Queue", [maxSize]);
  }

  /** A new queue with `taskDone()`/`join()` on the server. */
  JoinableQueue<T = unknown>(maxSize = 0): Promise<QueueProxy<T>> {
    return this.builtin<QueueProxy<T>>("JoinableQueue", [maxSize]);
  }

  /** A new Lock on the server: released by any client; a client that dies holding it lets go. */
  Lock(): Promise<LockProxy> {
    return this.builtin<LockProxy>("Lock", []);
  }

  /** A new RLock on the server: re-entered and released by the thread that holds it. */
  RLock(): Promise<LockProxy> {
    return this.builtin<LockProxy>("RLock", []);
  }

  /** A new Semaphore on the server. */
  Semaphore(value = 1): Promise<SemaphoreProxy> {
    return this.builtin<SemaphoreProxy>("Semaphore", [value]);
  }

  /** A new BoundedSemaphore on the server: releasing past `value` is an error. */
  BoundedSemaphore(value = 1): Promise<SemaphoreProxy> {
    return this.builtin<SemaphoreProxy>("BoundedSemaphore", [value]);
  }

  /** A new Condition on the server, over `lock` (a Lock/RLock of this manager) or a new RLock. */
  Condition(lock?: LockProxy): Promise<ConditionProxy> {
    return this.builtin<ConditionProxy>("Condition", lock === undefined ? [] : [lock]);
  }

  /** A new Event on the server. */
  Event(): Promise<EventProxy> {
    return this.builtin<EventProxy>("Event", []);
  }

  /** A new Barrier for `parties` on the server; `timeout`: the default of each `wait`. */
  Barrier(parties: number, opts: { timeout?: number } = {}): Promise<BarrierProxy> {
    return this.builtin<BarrierProxy>("Barrier", opts.timeout === undefined ? [parties] : [parties, opts.timeout]);
  }

  /** A new Value on the server (Python's `Manager().Value(typecode, value)`). */
  Value<T = unknown>(typecode: string, value: T): Promise<ValueProxy<T>> {
    return this.builtin<ValueProxy<T>>("Value", [typecode, value]);
  }

  /** A new Array on the server, from a length (zeroed) or initial values. */
  Array<T = unknown>(typecode: string, sizeOrValues: number | Iterable<T>): Promise<ArrayProxy<T>> {
    return this.builtin<ArrayProxy<T>>("Array", [typecode, typeof sizeOrValues === "number" ? sizeOrValues : [...sizeOrValues]]);
  }
}

/** Starts a SyncManager and resolves with it once its server serves: `await using m = await Manager()`. */
export async function Manager(opts: ManagerOptions = {}): Promise<SyncManager> {
  const m = new SyncManager(opts);
  await m.start();
  return m;
}


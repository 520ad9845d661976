/**
 * The base of every primitive whose state lives in shared memory (the locks here, @ipc/queue's
 * queues, @ipc/pipe's pipe homes). It sits above the broker (a remote object's calls go to it) and
 * below the primitives. An instance is either *local* (its words are in this process's memory) or
 * *remote* (it lives in another process and every call goes to that process's broker).
 *
 * Crossing a boundary: toward a thread, a local object travels as its SharedArrayBuffer (the same
 * memory); toward another process, an object in a native block (native-memory.ts) travels as the
 * path that maps the same memory there, any other is registered with this process's broker and
 * travels as a {@link RemoteRef}. A remote object travels as its RemoteRef in every direction.
 */
import { ClosedError, IpcError } from "../errors/errors.js";
import type { FramedSocket } from "../transport/framed-socket.js";
import type { SharedWords } from "../memory/shared-words.js";
import { wordsOf } from "../memory/shared-words.js";
import { isNative, nativeHandleState, nativeWordsFrom, noticeNoSharedMemory, type NativeHandleState } from "../memory/native-memory.js";
import { exportToBroker } from "../broker/export.js";
import { remoteClient } from "../broker/remote-client.js";
import type { RemoteRef } from "../broker/protocol.js";
import { type HandleContext, type HandleDescriptor, registerHandleType, toHandle } from "../handles/handle.js";
import { type RemoteCodec, remotePrototypeOf, takeSignal } from "./remote-class.js";

/** Token that selects the internal constructor path of shared objects. */
export const INTERNAL: unique symbol = Symbol("@ipc/core:internal") as never;

/** How a shared object is rebuilt: local words plus extra state, or a remote reference. */
export type SharedInit<E = unknown> =
  | { kind: "local"; words: SharedWords; extra: E }
  | { kind: "remote"; ref: RemoteRef; extra: E };

interface HandleState<E> {
  local?: { buffer: SharedArrayBuffer; byteOffset: number; count: number };
  native?: NativeHandleState;
  remote?: RemoteRef;
  extra: E;
}

/** Who calls an exposed method, and the signal that ends its wait (the caller left, or cancelled). */
export interface ServedCall {
  /** The calling thread's owner id (locks act on its behalf). */
  owner: number;
  signal: AbortSignal;
}

/** How a server runs one exposed method of `target` with the call's arguments (`C`: who calls, see {@link ServedCall}). */
export type ServedMethod<T, C = ServedCall> = (target: T, args: unknown[], call: C) => unknown;

/**
 * The methods a shared class serves to other processes, by name (CPython's `exposed`): a remote
 * call names one of them, and any other name is refused. The broker serves shared objects with
 * these tables, and @ipc/manager its objects (with its own call context).
 */
export type Exposed<T, C = ServedCall> = Readonly<Record<string, ServedMethod<T, C>>>;

/**
 * Runs the method `method` of `exposed` on `target` (what a server does with a call by name).
 * @throws IpcError naming `what` when the table has no such method (inherited names included: a
 * call named `constructor` or `__proto__` is refused like any other).
 */
export function serveExposed<T, C>(exposed: Exposed<T, C> | undefined, what: string, target: T, method: string, args: unknown[], call: C): unknown {
  const run = exposed !== undefined && Object.hasOwn(exposed, method) ? exposed[method] : undefined;
  if (run === undefined) throw new IpcError(`${what} has no remote method ${method} (not exposed)`);
  return run(target, args, call);
}

/** What every shared class declares about its handles, and what it serves. */
export interface SharedClass {
  readonly handleType: string;
  readonly handleModule: string;
  readonly exposed?: Exposed<never>;
  readonly remoteCodec?: RemoteCodec;
  readonly prototype: object;
}

/** Base class of shared primitives. */
export abstract class SharedObject<E = unknown> {
  /** Control words when local. */
  protected readonly words: SharedWords | undefined;
  /** Where the object lives when remote. */
  protected readonly remote: RemoteRef | undefined;

  protected constructor(init: SharedInit<E>) {
    Object.defineProperty(this, "words", { value: init.kind === "local" ? init.words : undefined, enumerable: false });
    Object.defineProperty(this, "remote", { value: init.kind === "remote" ? init.ref : undefined, enumerable: false });
    // a copy of an object living in another process: its exposed methods call that process
    if (init.kind === "remote") Object.setPrototypeOf(this, remotePrototypeOf(new.target as unknown as SharedClass));
  }

  /** Stable handle type name, e.g. `@ipc/core:Lock`: each class declares `static handleType`. */
  protected handleType(): string {
    return (this.constructor as unknown as SharedClass).handleType;
  }
  /** URL of the module that registers the handle type: each class declares `static handleModule`. */
  protected handleModule(): string {
    return (this.constructor as unknown as SharedClass).handleModule;
  }
  /** Extra state that travels with the handle (a barrier's action, a condition's lock, ...). */
  protected handleExtra(): E {
    return null as E;
  }

  /**
   * Serves a call from another process (broker side): runs the method of the class's `exposed`
   * table (a static field) named `method`. `owner` identifies the caller.
   */
  async serve(method: string, args: unknown[], owner: number, signal: AbortSignal): Promise<unknown> {
    const exposed = (this.constructor as unknown as { exposed?: Exposed<SharedObject<E>> }).exposed;
    return serveExposed(exposed, this.constructor.name, this, method, args, { owner, signal });
  }

  /**
   * Takes over a broker connection for a stream (a pipe end relayed to another process): the
   * object installs its own frame handler on `conn`. `args` come from the attach request.
   */
  attach(_conn: FramedSocket, _args: unknown[], _owner: number): void {
    throw new IpcError(`${this.constructor.name} cannot be attached as a stream`);
  }

  /**
   * True once nobody can reach the object any more (a pipe whose ends are all closed for good):
   * the broker then forgets it, so its memory can be freed. Most objects never are.
   */
  finished(): boolean {
    return false;
  }

  /** Called by the broker when a remote owner disconnects: release what it holds. */
  releaseOwner(_owner: number): void {}

  /**
   * Whether handing this object to a child process without @ipc/native is worth a notice (its
   * calls then go through the broker). False for objects that always travel that way (a pipe's
   * relay).
   */
  protected slowerWithoutSharedMemory(): boolean {
    return true;
  }

  /** @internal */
  [toHandle](ctx: HandleContext): HandleDescriptor {
    const state: HandleState<E> = { extra: this.handleExtra() };
    if (this.remote) state.remote = this.remote;
    else if (isNative(this.words!)) state.native = nativeHandleState(this.words, ctx.target);
    else if (ctx.target === "thread") {
      const w = this.words!;
      state.local = { buffer: w.buffer, byteOffset: w.byteOffset, count: w.i32.length };
    } else {
      if (this.slowerWithoutSharedMemory()) noticeNoSharedMemory(`a ${this.constructor.name}`);
      state.remote = exportToBroker(this);
    }
    return { type: this.handleType(), module: this.handleModule(), state };
  }

  /**
   * Checks that this handle may still be used (a closed queue handle may not); runs before every
   * forwarded call that may wait.
   */
  protected check(): void {}

  /** The signal a forwarded call obeys: the caller's (a queue adds its handle's `close()`). */
  protected callSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
    return signal;
  }

  /**
   * @internal A call a remote copy forwards to its home (see remote-class.ts): `blocking` waits
   * with the thread blocked, else it returns a promise; a call that `waits` checks the handle first.
   */
  forward(method: string, args: unknown[], blocking: boolean, waits: boolean): unknown {
    if (waits) this.check();
    const transform = (this.constructor as unknown as SharedClass).remoteCodec?.[method];
    const sent = transform?.args ? transform.args(args) : [...args];
    const signal = takeSignal(sent);
    const result = transform?.result;
    if (blocking) {
      const v = this.callSync(method, sent);
      return result ? result(v) : v;
    }
    const reply = this.call(method, sent, this.callSignal(signal));
    return result ? reply.then(result) : reply;
  }

  /** Calls `method` on the home of a remote object. */
  protected call(method: string, args: unknown[], signal?: AbortSignal): Promise<unknown> {
    return remoteClient().call(this.remote!, method, args, signal);
  }

  /** Calls `method` on the home of a remote object, blocking the thread until it answers. */
  protected callSync(method: string, args: unknown[]): unknown {
    return remoteClient().callSync(this.remote!, method, args);
  }
}

/** Registers the reviver of a shared-object class. */
export function registerShared<E>(type: string, make: (init: SharedInit<E>) => SharedObject<E>): void {
  registerHandleType(type, (state: HandleState<E>) => {
    if (state.local) {
      return make({ kind: "local", words: wordsOf(state.local.buffer, state.local.byteOffset, state.local.count), extra: state.extra });
    }
    if (state.native) return make({ kind: "local", words: nativeWordsFrom(state.native), extra: state.extra });
    if (state.remote) return make({ kind: "remote", ref: state.remote, extra: state.extra });
    throw new ClosedError(`bad ${type} handle`);
  });
}

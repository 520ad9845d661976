/**
 * Handles: how an IPC object crosses a boundary. An object that implements `[toHandle]` turns into
 * a small descriptor (type name, the URL of the module that implements it, and a state value);
 * the receiving side revives a working object from it.
 *
 * The descriptor's `module` is a hint, never an order: the receiver revives only
 *
 * 1. types registered in its isolate (their module was imported here);
 * 2. types of @ipc's own packages (`@ipc/<name>:...`), loaded from the copy of that package the
 *    receiver itself resolves (handle-trust.ts): the sender's URL is used only when it lies inside
 *    that copy;
 * 3. types whose module the receiving program allowed ({@link allowHandleModule}), or that its
 *    parent named at start-up ({@link loadHandleModules}: the parent is trusted, as in Python).
 *
 * Bytes from a network peer (`Listener`/`Client`) revive no handle at all unless its type was
 * registered as safe for peers (no shared memory, no module): see {@link RegisterHandleTypeOptions}.
 */
import { SerializationError } from "../errors/errors.js";
import { loadModule } from "../load-module.js";
import { allowHandleModule, isAllowedModule, loadSync, ownPackageModule } from "./handle-trust.js";
import { isolateState } from "../isolate-state.js";

export { allowHandleModule } from "./handle-trust.js";

/** The method an IPC object implements to describe itself as a handle. */
export const toHandle: unique symbol = Symbol.for("@ipc/core:toHandle") as never;

/** Where a serialized value is going. */
export type HandleTarget = "thread" | "process";

/** Passed to `[toHandle]` and to revivers. */
export interface HandleContext {
  /**
   * `'thread'`: the bytes go to a thread of this process, together with `shared` (the
   * SharedArrayBuffers travel by structured clone). `'process'`: the bytes must be self-contained.
   */
  readonly target: HandleTarget;
  /** Shared buffers that travel alongside the bytes (thread target only). */
  readonly shared?: SharedArrayBuffer[];
  /** True when the bytes came from a network peer (see the trust model in core's README). */
  readonly peer?: boolean;
}

/** The descriptor an object turns into. `state` is any serializable value (it may hold SABs for threads). */
export interface HandleDescriptor {
  /** Stable type name, e.g. `@ipc/core:Lock`. */
  type: string;
  /** URL of the module that registers `type`: a hint the receiver checks, never loads blindly. */
  module?: string;
  state: unknown;
}

/** An object that can be handed to another thread or process. */
export interface Handleable {
  [toHandle](ctx: HandleContext): HandleDescriptor;
}

/** Revives a handle's state into a working object. */
export type Reviver = (state: any, ctx: HandleContext) => unknown;

/** Options of {@link registerHandleType}. */
export interface RegisterHandleTypeOptions {
  /**
   * The type may arrive from a network peer (`Listener`/`Client`, remote managers): its state is
   * plain data that maps no memory and loads no module. Default false: such a handle from a peer
   * is a `SerializationError`.
   */
  fromPeers?: boolean;
}

interface Registered {
  revive: Reviver;
  fromPeers: boolean;
}

// one registry per isolate, shared by every copy of this package (ESM and CJS builds alike)
const revivers = isolateState("@ipc/core:revivers.v2", () => new Map<string, Registered>());

/** Registers how to revive handles of `type`. Called by each IPC class's module when it loads. */
export function registerHandleType(type: string, revive: Reviver, options: RegisterHandleTypeOptions = {}): void {
  if (typeof type !== "string" || type.length === 0) throw new TypeError("Expected `type` to be a non-empty string");
  if (typeof revive !== "function") throw new TypeError("Expected `revive` to be a function");
  revivers.set(type, { revive, fromPeers: options.fromPeers === true });
}

/** True when `value` implements `[toHandle]`. */
export function isHandleable(value: unknown): value is Handleable {
  return typeof value === "object" && value !== null && typeof (value as any)[toHandle] === "function";
}

/**
 * Finds the reviver for a handle type (see the module comment for what may be loaded).
 * @throws SerializationError naming the type when it may not or cannot be revived here.
 */
export function reviverFor(type: string, module: string | undefined, ctx: HandleContext): Reviver {
  let found = revivers.get(type);
  if (ctx.peer) {
    if (found?.fromPeers) return found.revive;
    throw new SerializationError(`a handle of type "${type}" cannot arrive from a network peer (only data does)`);
  }
  if (!found) {
    const load = ownPackageModule(type, module) ?? (module !== undefined && isAllowedModule(module) ? module : undefined);
    if (load === undefined) {
      throw new SerializationError(
        `cannot revive a handle of type "${type}": it is not registered in this thread (import its module here, or allow it with allowHandleModule())`,
      );
    }
    loadSync(load);
    found = revivers.get(type);
    if (!found) throw new SerializationError(`cannot revive a handle of type "${type}": ${load} did not register it`);
  }
  return found.revive;
}

/**
 * Imports, with `import()`, the modules a trusted party (a parent, at its child's start-up) named
 * for handle types not registered yet, and allows them for later handles too. Unlike the
 * synchronous load that reviving an unknown type falls back to, this loads modules with
 * top-level await, and in Node 20 a thread terminated meanwhile cannot abort its process (as it
 * can inside `require()` of an ES module). Pass the pairs `serialize`'s `handleModules`
 * collected, then deserialize. Never pass modules named by bytes from a peer.
 * @throws SerializationError naming the module that failed to load (its error as `cause`).
 */
export async function loadHandleModules(modules: Iterable<[type: string, module: string]>): Promise<void> {
  const loads: Promise<unknown>[] = [];
  for (const [type, module] of modules) {
    allowHandleModule(module);
    if (revivers.has(type)) continue;
    loads.push(
      loadModule(module).catch((error: unknown) => {
        throw new SerializationError(`cannot load ${module} to revive a handle`, { cause: error });
      }),
    );
  }
  await Promise.all(loads);
}

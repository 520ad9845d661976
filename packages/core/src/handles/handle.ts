/**
 * Handles: how an IPC object crosses a boundary. An object that implements `[toHandle]` turns into
 * a small descriptor (type name, the URL of the module that implements it, and a state value);
 * the receiving side revives a working object from it. Revival needs the type registered in that
 * isolate: the module registers it as a side effect of being loaded, and a receiver that never
 * imported it loads it from the descriptor's `module` (see {@link loadHandleModules}).
 */
import { lazyRequire } from "../lazy-require.js";
import { fileURLToPath } from "node:url";
import { SerializationError } from "../errors/errors.js";
import { loadModule } from "../load-module.js";

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
}

/** The descriptor an object turns into. `state` is any serializable value (it may hold SABs for threads). */
export interface HandleDescriptor {
  /** Stable type name, e.g. `@ipc/core:Lock`. */
  type: string;
  /** URL of a module that registers `type` when loaded; lets a receiver revive what it never imported. */
  module?: string;
  state: unknown;
}

/** An object that can be handed to another thread or process. */
export interface Handleable {
  [toHandle](ctx: HandleContext): HandleDescriptor;
}

/** Revives a handle's state into a working object. */
export type Reviver = (state: any, ctx: HandleContext) => unknown;

// one registry per isolate, shared by every copy of this package (ESM and CJS builds alike)
const revivers: Map<string, Reviver> = ((globalThis as any)[Symbol.for("@ipc/core:revivers")] ??= new Map());

/** Registers how to revive handles of `type`. Called by each IPC class's module when it loads. */
export function registerHandleType(type: string, revive: Reviver): void {
  revivers.set(type, revive);
}

/** True when `value` implements `[toHandle]`. */
export function isHandleable(value: unknown): value is Handleable {
  return typeof value === "object" && value !== null && typeof (value as any)[toHandle] === "function";
}

const require_ = lazyRequire(import.meta.url);

/** Loads a module synchronously so it can register its handle types (Node >= 20.19 can require ESM). */
function loadSync(module: string): void {
  try {
    require_(module.startsWith("file:") ? fileURLToPath(module) : module);
  } catch (error) {
    throw new SerializationError(`cannot load ${module} to revive a handle`, { cause: error });
  }
}

/** Finds the reviver for a handle type, loading its module when needed. */
export function reviverFor(type: string, module: string | undefined): Reviver {
  let revive = revivers.get(type);
  if (!revive && module) {
    loadSync(module);
    revive = revivers.get(type);
  }
  if (!revive) throw new SerializationError(`unknown handle type "${type}"${module ? ` (module ${module} did not register it)` : ""}`);
  return revive;
}

/**
 * Imports every module in `modules` whose handle type is not registered yet, with `import()`:
 * unlike the synchronous load that reviving an unknown type falls back to, this loads modules
 * with top-level await, and in Node 20 a thread terminated meanwhile cannot abort its process
 * (as it can inside `require()` of an ES module). Pass the pairs `serialize`'s `handleModules`
 * collected, then deserialize.
 * @throws SerializationError naming the module that failed to load (its error as `cause`).
 */
export async function loadHandleModules(modules: Iterable<[type: string, module: string]>): Promise<void> {
  for (const [type, module] of modules) {
    if (revivers.has(type)) continue;
    try {
      await loadModule(module);
    } catch (error) {
      throw new SerializationError(`cannot load ${module} to revive a handle`, { cause: error });
    }
  }
}

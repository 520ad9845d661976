/**
 * The state one isolate (a thread) keeps once, however many copies of @ipc's packages it loads.
 *
 * Why: a thread can load a package twice, as its ES module build and as its CommonJS build (a
 * CommonJS child bootstrap next to the user's ESM code, or a dependency that `require`s @ipc next
 * to one that imports it), and two copies of a module-level `Map` would disagree: a handle type
 * registered by one copy would be unknown to the other's decoder, a child tracked by one would be
 * missed by the other's exit handling. So each piece of per-isolate state lives on `globalThis`
 * under a registered symbol (`Symbol.for`, the same in every copy), created by whichever copy
 * asks first. These are all of them:
 *
 * | key | owner | what |
 * |---|---|---|
 * | `@ipc/core:revivers.v2` | core handles/handle.ts | registered handle types and their revivers |
 * | `@ipc/core:classesByName`, `@ipc/core:classesByCtor` | core codec/class-registry.ts | classes registered with `registerClass` |
 * | `@ipc/core:allowedHandleModules`, `@ipc/core:handleResolutionBases` | core handles/handle-trust.ts | the trust model's allowed modules and where @ipc's packages are resolved from |
 * | `@ipc/core:liveness` | core memory/liveness.ts | the process-wide table of ended threads (shared memory, installed by a child's bootstrap) |
 * | `@ipc/core:threadEndedHooks` | core memory/liveness.ts | what else records a thread's end (native blocks) |
 * | `@ipc/core:broker-server` | core broker/broker-worker.ts | the broker of this process, in its broker thread |
 * | `@ipc/process:identity` | process identity.ts | who this child is (set by its bootstrap) |
 * | `@ipc/process:children` | process children.ts | the live children of this isolate |
 *
 * Bump a key's suffix (`.v2`) when the shape of its value changes, so that an older copy of a
 * package in the same isolate does not read a newer one's state.
 */

/** The isolate's state under `key` (a `Symbol.for` name from the table above), made by `init` on first use. */
export function isolateState<T>(key: string, init: () => T): T {
  const g = globalThis as Record<symbol, unknown>;
  const sym = Symbol.for(key);
  if (!(sym in g)) g[sym] = init();
  return g[sym] as T;
}

/** Replaces the isolate's state under `key` (a child's bootstrap installing what its parent sent). */
export function setIsolateState<T>(key: string, value: T): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for(key)] = value;
}

/** The isolate's state under `key`, if any copy set it. */
export function peekIsolateState<T>(key: string): T | undefined {
  return (globalThis as Record<symbol, unknown>)[Symbol.for(key)] as T | undefined;
}

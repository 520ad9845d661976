/**
 * `@ipc/core/slim`: what a freshly started worker needs to receive its arguments and talk over
 * shared memory (codec, handles, errors, the ring), without loading the locks, the transport and
 * the broker (and Node's net and crypto modules with them). Handles of @ipc's own types it did not
 * load are revived by loading that package on demand, other types only from modules its parent
 * named (`loadHandleModules` imports them ahead) or the program allowed (see core's README, trust
 * model). The full API is `@ipc/core`; both share one copy of every class.
 */
export * from "./errors/errors.js";
export { serialize, serializeAt, serializeOr, recycleSerialized } from "./codec/encoder.js";
export type { SerializeOptions } from "./codec/encoder.js";
export { deserialize } from "./codec/decoder.js";
export type { DeserializeOptions } from "./codec/decoder.js";
export { registerClass } from "./codec/class-registry.js";
export { toHandle, registerHandleType, isHandleable, loadHandleModules, allowHandleModule } from "./handles/handle.js";
export { addHandleResolutionBase } from "./handles/handle-trust.js";
export { installLivenessTable, livenessTable, markThreadEnded, ownerEnded } from "./memory/liveness.js";
export { Deadline } from "./memory/deadline.js";
export { allocLarge } from "./memory/large-buffer.js";
export { nativeParentDeathSignal, nativeWatchThreadEnd } from "./memory/native-memory.js";
export { loadModule, loadModuleSync, moduleUrl } from "./load-module.js";
export type { Namespace } from "./load-module.js";
export { lazyRequire } from "./lazy-require.js";
export { isolateState, peekIsolateState, setIsolateState } from "./isolate-state.js";
export { pendingWritesDone } from "./objects/pending-writes.js";
export { atomicsBackend } from "./memory/wait-backend.js";
export { Ring, NOT_NOW } from "./ring/ring.js";
export type { Decode, RingGetOptions, RingPutOptions } from "./ring/ring.js";

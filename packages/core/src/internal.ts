/**
 * `@ipc/core/internal`: what @ipc's own packages share beyond the public API (the ring, the
 * broker, the transport, shared-object plumbing, validation helpers). Not for users: no stability
 * promise, it changes with any release. It also re-exports the public API, so a sibling package
 * imports from one place; both entries share one copy of every class.
 */
export * from "./index.js";
export { errorClasses } from "./errors/errors.js";
export { checkTimeout, checkInt, checkSignal, abortReason, invalid, optionsArg, timeoutArg } from "./errors/validate.js";
export { serializeAt, serializeOr, recycleSerialized } from "./codec/encoder.js";
export { addHandleResolutionBase } from "./handles/handle-trust.js";
export type { HandleTarget } from "./handles/handle.js";
export { SharedObject, registerShared, serveExposed, INTERNAL } from "./objects/shared-object.js";
export { remoteCopyOf } from "./objects/remote-copy.js";
export { pendingWritesDone, trackPendingWrite } from "./objects/pending-writes.js";
export { waitable, isWaitable } from "./handles/waitable.js";
export type { Waitable } from "./handles/waitable.js";
export type { Exposed, ServedCall, ServedMethod, SharedClass, SharedInit } from "./objects/shared-object.js";
export type { RemoteCodec, RemoteTransform } from "./objects/remote-class.js";
export { atomicsBackend } from "./memory/wait-backend.js";
export type { WaitBackend, WaitResult } from "./memory/wait-backend.js";
export { allocateWords, wordsOf } from "./memory/shared-words.js";
export type { SharedWords } from "./memory/shared-words.js";
export { allocateNativeWords, isNative, nativeHandleState, nativeShmOpen, nativeShmUnlink, nativeWordsFrom, PARTY_TABLE_BYTES, processEnded, releaseNativeDescriptor, tryAllocateNativeWords } from "./memory/native-memory.js";
export { trackSegment, trackerEnv, trackerStdio, untrackSegment } from "./memory/segment-tracker.js";
export type { NativeBlock, NativeHandleState, NativeWords } from "./memory/native-memory.js";
export { Deadline } from "./memory/deadline.js";
export { allocLarge } from "./memory/large-buffer.js";
export { loadModule, loadModuleSync, moduleUrl } from "./load-module.js";
export type { Namespace } from "./load-module.js";
export { lazyRequire } from "./lazy-require.js";
export { isolateState, peekIsolateState, setIsolateState } from "./isolate-state.js";
export { localOwnerId } from "./memory/isolate-id.js";
export { tryLockMutex, lockMutexSync, lockMutexAsync, unlockMutex, withMutexAsync } from "./locks/futex-mutex.js";
export { lockRobustSync, lockRobustAsync, unlockRobust, robustHolder, PROBE_MS } from "./locks/robust-mutex.js";
export { livenessTable, installLivenessTable, markThreadEnded, ownerEnded } from "./memory/liveness.js";
export { runWithLock, runWithLockSync } from "./locks/with-lock.js";
export type { Acquirable } from "./locks/with-lock.js";
export { FrameDecoder, frameHeader, DEFAULT_MAX_FRAME } from "./transport/frame-decoder.js";
export { FramedSocket } from "./transport/framed-socket.js";
export type { FramedSocketOptions } from "./transport/framed-socket.js";
export { deliverChallenge, answerChallenge, serverHandshake, clientHandshake } from "./transport/auth.js";
export { connectFramed, listenFramed } from "./transport/connect.js";
export type { ConnectOptions, ListenOptions } from "./transport/connect.js";
export { arbitraryAddress, formatAddress, netOptions, privateAddress } from "./transport/address.js";
export type { Address } from "./transport/address.js";
export { toAuthkey } from "./transport/authkey.js";
export { BrokerServer } from "./broker/broker-server.js";
export type { BrokerServerOptions } from "./broker/broker-server.js";
export { exportToBroker, brokerAddress, runInBroker, runInBrokerSync } from "./broker/export.js";
export { remoteClient } from "./broker/remote-client.js";
export type { RemoteRef } from "./broker/protocol.js";
export { entryUrl, createWorker, childExecArgv, isTypeScript } from "./entries.js";
export { Ring, HEADER_BYTES, NOT_NOW, HAND_OVER_MIN } from "./ring/ring.js";
export { FrameBatch } from "./ring/frame-batch.js";
export { registerSleeper, unregisterSleeper } from "./ring/ring-words.js";
export { AdaptiveSpin } from "./ring/adaptive-spin.js";
export { addMover, beforeBlock, MOVE_ON_MS, removeMover, type Mover } from "./memory/before-block.js";
export type { Decode, RingGetOptions, RingPutOptions, RingWaiter } from "./ring/ring.js";
export { untilEnd, untilShutDown } from "./until-end.js";

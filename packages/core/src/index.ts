export {
  IpcError,
  EmptyError,
  FullError,
  ShutDownError,
  EOFError,
  ClosedError,
  BrokenPipeError,
  BufferTooShortError,
  AuthenticationError,
  BrokenBarrierError,
  TimeoutError,
  RemoteError,
  ProcessError,
  WorkerLostError,
  SerializationError,
  ProtocolError,
  InvalidStateError,
  MessageTooLargeError,
  errorClasses,
} from "./errors/errors.js";
export type { IpcErrorOptions } from "./errors/errors.js";
export { checkTimeout, checkInt, checkSignal, abortReason, invalid } from "./errors/validate.js";

export { serialize, serializeAt, serializeOr, recycleSerialized } from "./codec/encoder.js";
export type { SerializeOptions } from "./codec/encoder.js";
export { deserialize } from "./codec/decoder.js";
export type { DeserializeOptions } from "./codec/decoder.js";
export { registerClass } from "./codec/class-registry.js";
export type { RegisterClassOptions } from "./codec/class-registry.js";
export { defaultCodec } from "./codec/codec.js";
export type { Codec } from "./codec/codec.js";

export { toHandle, registerHandleType, isHandleable, loadHandleModules, allowHandleModule } from "./handles/handle.js";
export { addHandleResolutionBase } from "./handles/handle-trust.js";
export type { HandleContext, HandleDescriptor, HandleTarget, Handleable, Reviver, RegisterHandleTypeOptions } from "./handles/handle.js";
export { SharedObject, registerShared, INTERNAL } from "./objects/shared-object.js";
export { pendingWritesDone, trackPendingWrite } from "./objects/pending-writes.js";
export { waitable, isWaitable } from "./handles/waitable.js";
export type { Waitable } from "./handles/waitable.js";
export type { SharedInit } from "./objects/shared-object.js";

export { atomicsBackend } from "./memory/wait-backend.js";
export type { WaitBackend, WaitResult } from "./memory/wait-backend.js";
export { allocateWords, wordsOf } from "./memory/shared-words.js";
export type { SharedWords } from "./memory/shared-words.js";
export { allocateNativeWords, isNative, nativeAvailable, nativeShmOpen, nativeShmUnlink, PARTY_TABLE_BYTES, tryAllocateNativeWords } from "./memory/native-memory.js";
export { trackSegment, trackerEnv, trackerStdio, untrackSegment } from "./memory/segment-tracker.js";
export type { NativeBlock, NativeWords } from "./memory/native-memory.js";
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
export { Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier } from "./locks/index.js";
export type { ActionRef, BarrierOptions, WaitOptions, WaitSyncOptions } from "./locks/index.js";

export { FrameDecoder, frameHeader, DEFAULT_MAX_FRAME } from "./transport/frame-decoder.js";
export { FramedSocket } from "./transport/framed-socket.js";
export type { FramedSocketOptions } from "./transport/framed-socket.js";
export { deliverChallenge, answerChallenge, serverHandshake, clientHandshake } from "./transport/auth.js";
export { connectFramed, listenFramed } from "./transport/connect.js";
export type { ConnectOptions, ListenOptions } from "./transport/connect.js";
export { arbitraryAddress, formatAddress, netOptions, privateAddress } from "./transport/address.js";
export type { Address } from "./transport/address.js";
export { currentAuthkey, setAuthkey, toAuthkey, AUTHKEY_ENV } from "./transport/authkey.js";

export { BrokerServer } from "./broker/broker-server.js";
export type { BrokerServerOptions } from "./broker/broker-server.js";
export { exportToBroker, brokerAddress, runInBroker, runInBrokerSync } from "./broker/export.js";
export { remoteClient } from "./broker/remote-client.js";
export type { RemoteRef } from "./broker/protocol.js";

export { entryUrl, createWorker, childExecArgv, isTypeScript } from "./entries.js";

export { Ring, HEADER_BYTES, NOT_NOW, HAND_OVER_MIN } from "./ring/ring.js";
export type { Decode, RingGetOptions, RingPutOptions } from "./ring/ring.js";

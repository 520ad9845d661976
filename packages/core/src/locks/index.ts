export { Lock } from "./lock.js";
export { RLock } from "./rlock.js";
export { Semaphore, BoundedSemaphore } from "./semaphore.js";
export { Condition } from "./condition.js";
export { Event } from "./event.js";
export { Barrier } from "./barrier.js";
export type { ActionRef, BarrierOptions } from "./barrier.js";
export type { WaitOptions, WaitSyncOptions } from "./options.js";

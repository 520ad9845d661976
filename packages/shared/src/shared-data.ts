/**
 * The base of Value, SharedArray and SharedStruct: a block of typed data in shared memory, with an
 * optional lock (a separate shared object, travelling with the handle as Condition's lock does).
 *
 * | bytes | who writes | meaning |
 * |---|---|---|
 * | 0 .. `byteLength` | the users of the object (under its lock, when they want several steps atomic) | the elements, in C layout |
 *
 * The block is at least 8 bytes and a multiple of 8, 8-byte aligned (so every element is aligned
 * for its type). Small blocks come from core's arena of small objects, larger ones are a native
 * block of their own (or a SharedArrayBuffer without `@ipc/native`); both start zeroed.
 *
 * Memory ordering: one element is read and written with `Atomics.load`/`Atomics.store` where its
 * type allows (every integer type); `float`/`double` elements are plain reads and writes of aligned
 * 4- or 8-byte words. Steps that must be seen together take the lock (`withLock`): the lock's
 * acquire and release are the fences that order them.
 *
 * In a process without the memory (a child process when `@ipc/native` is not loaded) the object is
 * remote: each element read or write is a call to its home's broker.
 */
import { InvalidStateError, RLock, type Lock } from "@ipc/core";
import { allocateWords, SharedObject, tryAllocateNativeWords, wordsOf, type SharedInit, type SharedWords } from "@ipc/core/internal";
import { noLock } from "./lock-option.js";

/** Blocks up to this size come from core's arena of small objects. */
const SMALL = 4096;

/** Bytes of a data block holding `bytes`: at least 8, a multiple of 8 (see the layout table). */
export function dataBytes(bytes: number): number {
  return Math.max(8, Math.ceil(bytes / 8) * 8);
}

/** Allocates a zeroed block of at least `bytes` bytes for shared data. */
export function allocateData(bytes: number): SharedWords {
  const size = dataBytes(bytes);
  if (size <= SMALL) return allocateWords(size / 4);
  return tryAllocateNativeWords(size, size / 4, []) ?? wordsOf(new SharedArrayBuffer(size), 0, size / 4);
}

/** What every shared data object's handle carries besides its memory. */
export interface DataExtra {
  lock: Lock | RLock | null;
}

/** Base class: the block, the lock, and the calls a remote copy makes. */
export abstract class SharedData<E extends DataExtra> extends SharedObject<E> {
  readonly #extra: E;
  /** withLock/withLockSync calls of this thread now running fn (the lock is held by this thread). */
  #held = 0;

  protected constructor(init: SharedInit<E>) {
    super(init);
    this.#extra = init.extra;
  }

  protected override handleExtra(): E {
    return this.#extra;
  }

  /** The handle's extra state. */
  protected get extra(): E {
    return this.#extra;
  }

  /** The lock, or null (made with `lock: false`). */
  protected get lockOrNull(): Lock | RLock | null {
    return this.#extra.lock;
  }

  /** The memory of the elements, when this process maps it. */
  protected get buffer(): SharedArrayBuffer | undefined {
    return this.words?.buffer;
  }

  /** Byte offset of the elements in {@link buffer}. */
  protected get byteOffset(): number {
    return this.words!.byteOffset;
  }

  /** True when every access is a call to the object's home (its memory is not mapped here). */
  protected get isRemote(): boolean {
    return this.remote !== undefined;
  }

  /** The memory, or a clear error where it is not mapped. */
  protected mapped(what: string): SharedArrayBuffer {
    if (!this.words) throw new InvalidStateError(`${what} needs the memory mapped in this process (a child process maps it with @ipc/native; without it every access goes through the parent)`);
    return this.words.buffer;
  }

  /** A remote call, blocking this thread (element access is synchronous). */
  protected remoteSync(method: string, args: unknown[]): unknown {
    return this.callSync(method, args);
  }

  /** The lock that guards the object. @throws InvalidStateError when it was made with `lock: false`. */
  getLock(): Lock | RLock {
    return this.#extra.lock ?? noLock(this.constructor.name);
  }

  /** Runs `fn` holding the lock (waiting for it without blocking the event loop). */
  async withLock<R>(fn: (self: this) => R | Promise<R>): Promise<R> {
    const lock = this.getLock();
    await lock.acquire();
    this.#held++;
    try {
      return await fn(this);
    } finally {
      this.#held--;
      lock.release();
    }
  }

  /** Runs `fn` holding the lock, blocking this thread while it waits for it. */
  withLockSync<R>(fn: (self: this) => R): R {
    const lock = this.getLock();
    lock.acquireSync();
    this.#held++;
    try {
      return fn(this);
    } finally {
      this.#held--;
      lock.release();
    }
  }

  /**
   * Takes the lock for one element access and returns it (the caller releases it in a `finally`),
   * or null when there is no lock or this thread holds it already inside its own withLock: there
   * the access would only re-enter an RLock (a third of a `+=`) and would deadlock on a Lock.
   */
  protected enter(): Lock | RLock | null {
    const lock = this.#extra.lock;
    if (lock === null || this.#held > 0) return null;
    lock.acquireSync();
    return lock;
  }

  /** Runs `fn` as one access under {@link enter}'s rule (for the bulk accesses; single elements inline it). */
  protected locked<R>(fn: () => R): R {
    const lock = this.enter();
    try {
      return fn();
    } finally {
      lock?.release();
    }
  }
}

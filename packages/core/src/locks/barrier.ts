/**
 * Barrier: `parties` parties wait until all have arrived (Python's `multiprocessing.Barrier`,
 * with the same state machine as `threading.Barrier`).
 *
 * | word | who writes | meaning |
 * |---|---|---|
 * | 0 `mutex` | everyone | futex mutex guarding words 2-3 (see futex-mutex.ts) |
 * | 1 `epoch` | `notifyAll` under the mutex | bumped on every state change; sleepers wait on it |
 * | 2 `count` | parties, under the mutex | parties inside `wait` |
 * | 3 `state` | under the mutex | 0 filling · 1 draining · -1 resetting · -2 broken |
 * | 4 `parties` | constructor | number of parties |
 *
 * Memory ordering: words 2-3 are read and written only with the mutex held. A sleeper reads
 * `epoch` with the mutex held, releases it and sleeps while `epoch` is unchanged; every state
 * change bumps `epoch` under the mutex before notifying, so no change is missed.
 *
 * The algorithm is written once as a generator of sleep requests, driven either synchronously
 * (`waitSync`, `Atomics.wait`) or asynchronously (`wait`, `Atomics.waitAsync`).
 */
import { loadModule, loadModuleSync } from "../load-module.js";
import { BrokenBarrierError, IpcError, SerializationError } from "../errors/errors.js";
import { checkInt, checkSignal, checkTimeout, optionsArg } from "../errors/validate.js";
import type { HandleContext, HandleDescriptor } from "../handles/handle.js";
import { toHandle } from "../handles/handle.js";
import { type Exposed, INTERNAL, registerShared, SharedObject, type SharedInit } from "../objects/shared-object.js";
import { Deadline } from "../memory/deadline.js";
import { allocateWords } from "../memory/shared-words.js";
import { lockMutexSync, unlockMutex, withMutexAsync } from "./futex-mutex.js";
import type { WaitOptions, WaitSyncOptions } from "./options.js";

const MUTEX = 0;
const EPOCH = 1;
const COUNT = 2;
const STATE = 3;
const PARTIES = 4;
const FILLING = 0;
const DRAINING = 1;
const RESETTING = -1;
const BROKEN = -2;
const TYPE = "@ipc/core:Barrier";

/** A barrier action that can run in any thread or process: an export of a module. */
export interface ActionRef {
  /** File URL or path of the module. */
  module: string | URL;
  /** Name of the exported function. */
  name: string;
}

/** Options of {@link Barrier}. */
export interface BarrierOptions {
  /**
   * Runs once per trip, in the last party to arrive, before any party is released. A function
   * works only while every party is in this isolate; give `{ module, name }` to share the barrier.
   */
  action?: (() => void) | ActionRef;
  /** Default timeout of `wait`, in ms. */
  timeout?: number;
}

interface Extra {
  action: { module: string; name: string } | null;
  timeout: number | null;
}

/** A sleep the algorithm asks its driver for: sleep on `epoch` while it equals `seen`, then re-lock. */
type Sleep = { seen: number; deadline: Deadline };

/** A reusable barrier for a fixed number of parties in threads and processes. */
export class Barrier extends SharedObject<Extra> {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  declare private localAction: (() => void) | undefined;
  declare private actionLoad: Promise<void> | undefined;
  declare private readonly extra: Extra;

  /** @param parties how many parties must call `wait` before all are released. */
  constructor(parties: number, options?: BarrierOptions);
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<Extra>);
  constructor(parties: number | typeof INTERNAL, options?: BarrierOptions | SharedInit<Extra>) {
    let init: SharedInit<Extra>;
    let localAction: (() => void) | undefined;
    if (parties === INTERNAL) init = options as SharedInit<Extra>;
    else {
      const n = checkInt(parties, "parties", 1, 0x7fffffff);
      const opts = (options ?? {}) as BarrierOptions;
      const words = allocateWords(5);
      Atomics.store(words.i32, PARTIES, n);
      let action: Extra["action"] = null;
      if (typeof opts.action === "function") localAction = opts.action;
      else if (opts.action) action = { module: String(opts.action.module), name: opts.action.name };
      init = { kind: "local", words, extra: { action, timeout: opts.timeout === undefined ? null : checkTimeout(opts.timeout) } };
    }
    super(init);
    Object.defineProperty(this, "extra", { value: init.extra, enumerable: false });
    Object.defineProperty(this, "localAction", { value: localAction, enumerable: false, writable: true });
    Object.defineProperty(this, "actionLoad", { value: undefined, enumerable: false, writable: true });
    void this.preloadAction();
  }

  /** Number of parties required to trip the barrier. */
  get parties(): number {
    return Atomics.load(this.words!.i32, PARTIES);
  }

  /** Number of parties currently waiting. */
  get nWaiting(): number {
    return this.locked(() => {
      const i32 = this.words!.i32;
      return Atomics.load(i32, STATE) === FILLING ? Atomics.load(i32, COUNT) : 0;
    });
  }

  /** True when the barrier is broken. */
  get broken(): boolean {
    return Atomics.load(this.words!.i32, STATE) === BROKEN;
  }

  /**
   * Waits (without blocking the event loop) until all parties have arrived.
   * @returns this party's arrival index, 0..parties-1, unique per trip.
   * @throws BrokenBarrierError when the barrier is or becomes broken, reset or aborted, or this
   *   wait times out (which breaks it for every party).
   */
  async wait(opts: WaitOptions = {}): Promise<number> {
    const timeout = this.timeoutOf(opts.timeout);
    const signal = checkSignal(opts.signal);
    await this.preloadAction();
    return this.driveAsync(this.algorithm(timeout), signal);
  }

  /** As {@link wait}, blocking the calling thread. */
  waitSync(opts: WaitSyncOptions = {}): number {
    const timeout = this.timeoutOf(opts.timeout);
    const { i32, backend } = this.words!;
    const forever = new Deadline(Infinity);
    lockMutexSync(i32, MUTEX, backend, forever);
    try {
      const gen = this.algorithm(timeout);
      let step = gen.next();
      while (!step.done) {
        const sleep = step.value;
        unlockMutex(i32, MUTEX, backend);
        backend.wait(i32, EPOCH, sleep.seen, sleep.deadline.remaining());
        lockMutexSync(i32, MUTEX, backend, forever);
        step = gen.next();
      }
      return step.value;
    } finally {
      unlockMutex(i32, MUTEX, backend);
    }
  }

  /** A wait's timeout: the one given, else the barrier's own (`timeout` when made), else none. */
  private timeoutOf(timeout: unknown): number {
    return timeout === undefined ? (this.extra.timeout ?? Infinity) : checkTimeout(timeout);
  }

  /** Breaks the barrier for current waiters, then makes it usable again. */
  reset(): void {
    this.locked(() => {
      const i32 = this.words!.i32;
      if (Atomics.load(i32, COUNT) > 0) {
        const state = Atomics.load(i32, STATE);
        if (state === FILLING || state === BROKEN) Atomics.store(i32, STATE, RESETTING);
      } else Atomics.store(i32, STATE, FILLING);
      this.notifyAll();
    });
  }

  /** Breaks the barrier: current and future waits throw BrokenBarrierError until `reset()`. */
  abort(): void {
    this.locked(() => this.breakIt());
  }

  /** Runs the mutex-holding body, synchronously (short critical sections only). */
  private locked<R>(fn: () => R): R {
    const { i32, backend } = this.words!;
    lockMutexSync(i32, MUTEX, backend, new Deadline(Infinity));
    try {
      return fn();
    } finally {
      unlockMutex(i32, MUTEX, backend);
    }
  }

  private notifyAll(): void {
    const { i32, backend } = this.words!;
    Atomics.add(i32, EPOCH, 1);
    backend.notify(i32, EPOCH);
  }

  private breakIt(): void {
    Atomics.store(this.words!.i32, STATE, BROKEN);
    this.notifyAll();
  }

  /** Python's Barrier.wait, with the mutex held on entry and on every resume. */
  private *algorithm(timeout: number): Generator<Sleep, number, void> {
    const i32 = this.words!.i32;
    const deadline = new Deadline(timeout);
    const forever = new Deadline(Infinity);
    // _enter: wait while the previous trip drains or a reset is in progress
    for (;;) {
      const state = Atomics.load(i32, STATE);
      if (state !== RESETTING && state !== DRAINING) break;
      yield { seen: Atomics.load(i32, EPOCH), deadline: forever };
    }
    if (Atomics.load(i32, STATE) < 0) throw new BrokenBarrierError("the barrier is broken");
    const index = Atomics.add(i32, COUNT, 1);
    try {
      if (index + 1 === Atomics.load(i32, PARTIES)) {
        try {
          this.runAction();
        } catch (e) {
          this.breakIt();
          throw e;
        }
        Atomics.store(i32, STATE, DRAINING);
        this.notifyAll();
      } else {
        while (Atomics.load(i32, STATE) === FILLING) {
          if (deadline.expired()) {
            this.breakIt();
            throw new BrokenBarrierError("timed out waiting on the barrier");
          }
          yield { seen: Atomics.load(i32, EPOCH), deadline };
        }
        if (Atomics.load(i32, STATE) < 0) throw new BrokenBarrierError("the barrier was broken while waiting");
      }
      return index;
    } finally {
      // _exit
      if (Atomics.sub(i32, COUNT, 1) === 1) {
        const state = Atomics.load(i32, STATE);
        if (state === RESETTING || state === DRAINING) {
          Atomics.store(i32, STATE, FILLING);
          this.notifyAll();
        }
      }
    }
  }

  /** Starts loading an `{ module, name }` action so that the party that trips the barrier finds it ready. */
  private preloadAction(): Promise<void> {
    const ref = this.extra.action;
    if (!ref || this.localAction) return Promise.resolve();
    this.actionLoad ??= loadModule(ref.module).then(
      (mod: Record<string, unknown>) => {
        if (typeof mod[ref.name] === "function") this.localAction = mod[ref.name] as () => void;
      },
      () => {
        // reported when the action is needed
      },
    );
    return this.actionLoad;
  }

  private runAction(): void {
    if (this.localAction) return this.localAction();
    const ref = this.extra.action;
    if (!ref) return;
    // not preloaded yet: load synchronously (fails for a module with top-level await)
    let mod: Record<string, unknown>;
    try {
      mod = loadModuleSync(ref.module);
    } catch (e) {
      throw new IpcError(`Barrier action: cannot load ${ref.module}: ${(e as Error).message}`, { cause: e });
    }
    const fn = mod[ref.name];
    if (typeof fn !== "function") throw new IpcError(`Barrier action: ${ref.module} has no exported function ${ref.name}`);
    this.localAction = fn as () => void;
    fn();
  }

  private async driveAsync(gen: Generator<Sleep, number, void>, signal?: AbortSignal): Promise<number> {
    const { i32, backend } = this.words!;
    let step = await withMutexAsync(i32, MUTEX, backend, () => gen.next());
    while (!step.done) {
      const sleep = step.value;
      let aborted: unknown;
      try {
        await backend.waitAsync(i32, EPOCH, sleep.seen, sleep.deadline.remaining(), signal);
      } catch (e) {
        aborted = e;
      }
      step = await withMutexAsync(i32, MUTEX, backend, () => {
        if (aborted === undefined) return gen.next();
        // an aborted party breaks the barrier, like a timed-out one
        this.breakIt();
        return gen.throw(aborted);
      });
    }
    return step.value;
  }

  /** The methods a process that holds this Barrier remotely calls (see SharedObject#serve). */
  static readonly exposed: Exposed<Barrier> = {
    wait: async (b, args, call) => {
      await b.preloadAction();
      return b.driveAsync(b.algorithm(b.timeoutOf(optionsArg<WaitOptions>(args, 0).timeout)), call.signal);
    },
    parties: (b) => b.parties,
    nWaiting: (b) => b.nWaiting,
    broken: (b) => b.broken,
    reset: (b) => b.reset(),
    abort: (b) => b.abort(),
  };

  override [toHandle](ctx: HandleContext): HandleDescriptor {
    if (this.localAction) {
      throw new SerializationError("a Barrier whose action is a function cannot be shared; pass `action: { module, name }`");
    }
    return super[toHandle](ctx);
  }

  protected override handleExtra(): Extra {
    return this.extra;
  }
}

registerShared<Extra>(TYPE, (init) => new Barrier(INTERNAL, init));

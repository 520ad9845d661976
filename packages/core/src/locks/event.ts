/**
 * Event: a flag that parties wait on (Python's `multiprocessing.Event`).
 *
 * | word | who writes | meaning |
 * |---|---|---|
 * | 0 `flag` | `set` (1) / `clear` (0) | the flag |
 *
 * Memory ordering: `set` stores 1 (seq-cst) and then notifies every sleeper; a waiter sleeps only
 * while the word reads 0, so a `set` between its check and its sleep is never missed.
 */
import { checkSignal, checkTimeout, timeoutArg } from "../errors/validate.js";
import { type Exposed, INTERNAL, registerShared, SharedObject, type SharedInit } from "../objects/shared-object.js";
import { Deadline } from "../memory/deadline.js";
import { allocateWords } from "../memory/shared-words.js";
import type { WaitOptions, WaitSyncOptions } from "./options.js";

const FLAG = 0;
const TYPE = "@ipc/core:Event";

/** A flag shared by threads and processes; `wait` returns when it is set. */
export class Event extends SharedObject<null> {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  constructor();
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<null>);
  constructor(token?: typeof INTERNAL, init?: SharedInit<null>) {
    super(token === INTERNAL && init ? init : { kind: "local", words: allocateWords(1), extra: null });
  }

  /** True when the flag is set. */
  isSet(): boolean {
    return Atomics.load(this.words!.i32, FLAG) === 1;
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    const { i32, backend } = this.words!;
    Atomics.store(i32, FLAG, 1);
    backend.notify(i32, FLAG);
  }

  /** Clears the flag. */
  clear(): void {
    Atomics.store(this.words!.i32, FLAG, 0);
  }

  /** Waits until the flag is set; returns the flag (false on timeout), never blocking the event loop. */
  async wait(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout);
    const signal = checkSignal(opts.signal);
    return this.waitLocal(timeout, signal);
  }

  /** Waits until the flag is set, blocking the calling thread; false on timeout. */
  waitSync(opts: WaitSyncOptions = {}): boolean {
    const timeout = checkTimeout(opts.timeout);
    const { i32, backend } = this.words!;
    const deadline = new Deadline(timeout);
    while (Atomics.load(i32, FLAG) === 0) {
      const rem = deadline.remaining();
      if (rem <= 0) return false;
      backend.wait(i32, FLAG, 0, rem);
    }
    return true;
  }

  private async waitLocal(timeout: number, signal?: AbortSignal): Promise<boolean> {
    const { i32, backend } = this.words!;
    const deadline = new Deadline(timeout);
    while (Atomics.load(i32, FLAG) === 0) {
      const rem = deadline.remaining();
      if (rem <= 0) return false;
      await backend.waitAsync(i32, FLAG, 0, rem, signal);
    }
    return true;
  }

  /** The methods a process that holds this Event remotely calls (see SharedObject#serve). */
  static readonly exposed: Exposed<Event> = {
    isSet: (e) => e.isSet(),
    set: (e) => e.set(),
    clear: (e) => e.clear(),
    wait: (e, args, call) => e.waitLocal(timeoutArg(args, 0), call.signal),
  };

  override toString(): string {
    return `<Event ${this.remote ? "remote" : this.isSet() ? "set" : "unset"}>`;
  }
}

registerShared<null>(TYPE, (init) => new Event(INTERNAL, init));

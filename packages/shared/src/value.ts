/**
 * Value: one typed element in shared memory, as Python's `multiprocessing.Value`. Layout and
 * memory ordering: shared-data.ts (one element at byte 0).
 */
import { INTERNAL, registerShared, type Exposed, type SharedInit } from "@ipc/core/internal";
import { lockFor, type LockOption } from "./lock-option.js";
import { allocateData, SharedData, type DataExtra } from "./shared-data.js";
import { codeOf, load, store, toStored, viewOf, zeroOf, type Code, type ElementOf, type Typecode } from "./typecodes.js";

const TYPE = "@ipc/shared:Value";

interface Extra extends DataExtra {
  typecode: string;
}

/** Options of {@link Value}. */
export interface ValueOptions {
  /** `true` or omitted: a new RLock guards every access (Python's default); `false`: none; or the Lock/RLock to use. */
  lock?: LockOption;
}

/**
 * One number, bigint or character in shared memory. Every read and write of `value` takes the
 * lock (when there is one); use `withLock` for a read-modify-write.
 *
 * @example
 * const counter = new Value("i", 0);
 * // in any thread or child process it was handed to:
 * await counter.withLock((c) => { c.value += 1; });
 */
export class Value<T = number> extends SharedData<Extra> {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  declare private readonly code: Code;
  declare private readonly view: ReturnType<typeof viewOf> | undefined;

  constructor(typecode: Typecode, init?: T, opts?: ValueOptions);
  /** @internal */
  constructor(token: typeof INTERNAL, init: SharedInit<Extra>);
  constructor(a: Typecode | typeof INTERNAL, b?: unknown, opts: ValueOptions = {}) {
    let init: SharedInit<Extra>;
    let first: unknown;
    if (a === INTERNAL) init = b as SharedInit<Extra>;
    else {
      const code = codeOf(a);
      first = b === undefined ? zeroOf(code) : b;
      toStored(code, first); // a wrong initial value throws before anything is allocated
      if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object");
      init = { kind: "local", words: allocateData(code.size), extra: { typecode: code.letter, lock: lockFor(opts.lock) } };
    }
    super(init);
    const code = codeOf(init.extra.typecode);
    Object.defineProperty(this, "code", { value: code, enumerable: false });
    const buffer = this.buffer;
    Object.defineProperty(this, "view", { value: buffer ? viewOf(code, buffer, this.byteOffset, 1) : undefined, enumerable: false });
    if (a !== INTERNAL) store(code, this.view!, 0, first);
  }

  /** Python's typecode letter of the element. */
  get typecode(): string {
    return this.code.letter;
  }

  /** The element; each read and each write takes the lock when there is one. @throws TypeError for a value of the wrong type. */
  get value(): T {
    const lock = this.enter();
    try {
      return (this.view ? load(this.code, this.view, 0) : this.remoteSync("load", [])) as T;
    } finally {
      lock?.release();
    }
  }

  set value(v: T) {
    toStored(this.code, v);
    const lock = this.enter();
    try {
      if (this.view) store(this.code, this.view, 0, v);
      else this.remoteSync("store", [v]);
    } finally {
      lock?.release();
    }
  }

  /** What a remote copy calls to read and write the element (see SharedObject#serve). */
  static readonly exposed: Exposed<Value<unknown>> = {
    load: (v) => load(v.code, v.view!, 0),
    store: (v, args) => {
      toStored(v.code, args[0]);
      store(v.code, v.view!, 0, args[0]);
    },
  };

  override toString(): string {
    return `<Value '${this.code.letter}' ${this.isRemote ? "remote" : String(load(this.code, this.view!, 0))}>`;
  }
}

registerShared<Extra>(TYPE, (init) => new Value(INTERNAL, init));

/**
 * A Value without a lock (Python's `RawValue`): reads and writes are each atomic for integer
 * types, nothing more.
 */
export function RawValue<C extends Typecode>(typecode: C, init?: ElementOf<C>): Value<ElementOf<C>> {
  return new Value<ElementOf<C>>(typecode, init, { lock: false });
}


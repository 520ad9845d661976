/**
 * SharedStruct: a record of named typed fields in shared memory, what a ctypes `Structure` in a
 * `multiprocessing.Value` gives Python. Layout: the fields in the order given, each at the next
 * offset aligned to its size (as a C compiler lays out a struct of these types), the whole padded
 * to the largest alignment; see {@link SharedStruct.layout}. Memory ordering: shared-data.ts (a
 * field is one element).
 */
import { INTERNAL, registerShared, type Exposed, type SharedInit } from "@ipc/core/internal";
import { lockFor, type LockOption } from "./lock-option.js";
import { allocateData, SharedData, type DataExtra } from "./shared-data.js";
import { codeOf, load, store, toStored, viewOf, type Code, type ElementOf, type Typecode } from "./typecodes.js";

const TYPE = "@ipc/shared:SharedStruct";

/** Field names and their typecodes, in order. */
export type StructFields = Record<string, Typecode>;
/** The values of a struct's fields, typed from their codes. */
export type FieldValues<F extends StructFields> = { -readonly [K in keyof F]: ElementOf<F[K]> };

/** One field: its element type and, where the memory is mapped, its view. */
interface FieldView {
  code: Code;
  view: ReturnType<typeof viewOf> | undefined;
}

interface Extra extends DataExtra {
  fields: [string, string][];
}

/** Options of {@link SharedStruct}. */
export interface SharedStructOptions {
  /** `true` or omitted: a new RLock guards every field access (Python's default); `false`: none; or the Lock/RLock to use. */
  lock?: LockOption;
}

/** Where each field lives: byte offset and typecode. */
export interface FieldLayout {
  name: string;
  typecode: string;
  offset: number;
  size: number;
}

/** Names a field cannot have: the struct's own members. */
/** Properties the base classes set on each instance (not on the prototype). */
const INSTANCE_FIELDS = new Set(["words", "remote", "fieldViews", "fieldLayout", "recordSize"]);
const RESERVED = new Set(["getLock", "withLock", "withLockSync", "toObject", "raw", "layout", "toString", "constructor", "serve", "attach", "finished", "releaseOwner", "then"]);

/** C layout of `fields`: offsets aligned to each field's size, total padded to the largest. */
function layOut(fields: [string, string][]): { layout: FieldLayout[]; size: number } {
  let offset = 0;
  let align = 1;
  const layout: FieldLayout[] = [];
  for (const [name, typecode] of fields) {
    const code = codeOf(typecode);
    offset = Math.ceil(offset / code.size) * code.size;
    layout.push({ name, typecode: code.letter, offset, size: code.size });
    offset += code.size;
    align = Math.max(align, code.size);
  }
  return { layout, size: Math.ceil(offset / align) * align };
}

class SharedStructImpl<F extends StructFields> extends SharedData<Extra> {
  static readonly handleType: string = TYPE;
  static readonly handleModule: string = import.meta.url;

  declare private readonly fieldViews: Map<string, FieldView>;
  declare private readonly fieldLayout: FieldLayout[];
  /** Bytes of the record (C layout, padded). */
  declare private readonly recordSize: number;

  constructor(fields: F, init?: Partial<FieldValues<F>>, opts?: SharedStructOptions);
  constructor(token: typeof INTERNAL, init: SharedInit<Extra>);
  constructor(a: F | typeof INTERNAL, b?: unknown, opts: SharedStructOptions = {}) {
    let init: SharedInit<Extra>;
    let first: Record<string, unknown> | undefined;
    if (a === INTERNAL) init = b as SharedInit<Extra>;
    else {
      if (typeof a !== "object" || a === null) throw new TypeError("Expected `fields` to be an object of field names and typecodes");
      const fields = Object.entries(a) as [string, string][];
      if (fields.length === 0) throw new TypeError("a SharedStruct needs at least one field");
      for (const [name, typecode] of fields) {
        // a field may not shadow a member: the object's own code would read the field instead
        if (RESERVED.has(name) || INSTANCE_FIELDS.has(name) || name in SharedStructImpl.prototype) {
          throw new TypeError(`a SharedStruct field cannot be named "${name}" (a member of SharedStruct has that name)`);
        }
        codeOf(typecode);
      }
      if (b !== undefined && (typeof b !== "object" || b === null)) throw new TypeError("Expected `init` to be an object of field values");
      first = b as Record<string, unknown> | undefined;
      for (const name of Object.keys(first ?? {})) {
        if (!Object.hasOwn(a, name)) throw new TypeError(`no field "${name}" in this SharedStruct`);
        toStored(codeOf(a[name]), first![name]);
      }
      if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object");
      init = { kind: "local", words: allocateData(layOut(fields).size), extra: { fields, lock: lockFor(opts.lock) } };
    }
    super(init);
    const { layout, size } = layOut(init.extra.fields);
    const buffer = this.buffer;
    const views = new Map<string, { code: Code; view: ReturnType<typeof viewOf> | undefined }>();
    for (const f of layout) {
      const code = codeOf(f.typecode);
      views.set(f.name, { code, view: buffer ? viewOf(code, buffer, this.byteOffset + f.offset, 1) : undefined });
      Object.defineProperty(this, f.name, {
        get: () => this.#get(f.name),
        set: (v: unknown) => this.#set(f.name, v),
        enumerable: true,
      });
    }
    Object.defineProperty(this, "fieldViews", { value: views, enumerable: false });
    Object.defineProperty(this, "fieldLayout", { value: layout, enumerable: false });
    Object.defineProperty(this, "recordSize", { value: size, enumerable: false });
    if (first) for (const [name, v] of Object.entries(first)) store(views.get(name)!.code, views.get(name)!.view!, 0, v);
  }

  #get(name: string): unknown {
    const f = this.fieldViews.get(name)!;
    const lock = this.enter();
    try {
      return f.view ? load(f.code, f.view, 0) : this.remoteSync("load", [name]);
    } finally {
      lock?.release();
    }
  }

  #set(name: string, v: unknown): void {
    const f = this.fieldViews.get(name)!;
    toStored(f.code, v);
    const lock = this.enter();
    try {
      if (f.view) store(f.code, f.view, 0, v);
      else this.remoteSync("store", [name, v]);
    } finally {
      lock?.release();
    }
  }

  /** A plain snapshot of every field, read under the lock once. */
  toObject(): FieldValues<F> {
    return this.locked(() => {
      if (this.isRemote) return this.remoteSync("snapshot", []) as FieldValues<F>;
      return this.#snapshot();
    });
  }

  #snapshot(): FieldValues<F> {
    const out: Record<string, unknown> = {};
    for (const [name, f] of this.fieldViews) out[name] = load(f.code, f.view!, 0);
    return out as FieldValues<F>;
  }

  /** Each field's offset, size and typecode (the C layout). */
  get layout(): readonly FieldLayout[] {
    return this.fieldLayout;
  }

  /** The record's bytes (C layout). @throws InvalidStateError where the memory is not mapped. */
  get raw(): DataView {
    return new DataView(this.mapped("raw"), this.byteOffset, this.recordSize);
  }

  /** What a remote copy calls to read and write fields (see SharedObject#serve). */
  static readonly exposed: Exposed<SharedStructImpl<StructFields>> = {
    load: (s, args) => {
      const f = s.#field(args[0]);
      return load(f.code, f.view!, 0);
    },
    store: (s, args) => {
      const f = s.#field(args[0]);
      toStored(f.code, args[1]);
      store(f.code, f.view!, 0, args[1]);
    },
    snapshot: (s) => s.#snapshot(),
  };

  /** The field a remote copy names. */
  #field(name: unknown): FieldView {
    const f = typeof name === "string" ? this.fieldViews.get(name) : undefined;
    if (!f) throw new TypeError(`this SharedStruct has no field ${String(name)}`);
    return f;
  }

  override toString(): string {
    return `<SharedStruct ${this.fieldLayout.map((f) => `${f.name}: '${f.typecode}'`).join(", ")}${this.isRemote ? " remote" : ""}>`;
  }
}

registerShared<Extra>(TYPE, (init) => new SharedStructImpl(INTERNAL, init));

/** A SharedStruct whose fields `F` are properties typed from their codes. */
export type SharedStruct<F extends StructFields = StructFields> = SharedStructImpl<F> & FieldValues<F>;

/** The constructor of {@link SharedStruct}. */
export interface SharedStructConstructor {
  /**
   * A record of named typed fields in shared memory; every field is a property (`s.count` is a
   * `bigint` for `'q'`, `s.mean = 1.5` for `'d'`). Each read or write of one field takes the lock
   * when there is one; use `withLock` for several at once.
   *
   * @example
   * const stats = new SharedStruct({ count: "q", mean: "d", flags: "B" });
   * await stats.withLock((s) => { s.count += 1n; s.mean = 0.5; });
   */
  new <F extends StructFields>(fields: F, init?: Partial<FieldValues<F>>, opts?: SharedStructOptions): SharedStruct<F>;
  readonly handleType: string;
  readonly handleModule: string;
}

/** A record of named typed fields in shared memory (see {@link SharedStructConstructor}). */
export const SharedStruct = SharedStructImpl as unknown as SharedStructConstructor;

/**
 * SharedMemory: a named block of shared memory, as Python's `multiprocessing.shared_memory`. The
 * name is a file under /dev/shm (POSIX `shm_open`), so a process this program did not start can
 * attach to it by name. Needs `@ipc/native` (Linux).
 *
 * | bytes | who writes | meaning |
 * |---|---|---|
 * | 0 .. `size` | its users | whatever they agree on; nothing of @ipc's |
 *
 * Memory ordering: none of its own: it is raw memory, as Python's. Coordinate with a Lock, or
 * with `Atomics` on an `Int32Array` over `buf.buffer`.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ClosedError, currentAuthkey, IpcError, registerHandleType, toHandle, type HandleDescriptor } from "@ipc/core";
import { nativeShmOpen, nativeShmUnlink, trackSegment, untrackSegment } from "@ipc/core/internal";

const TYPE = "@ipc/shared:SharedMemory";

/** Options of {@link SharedMemory}. */
export interface SharedMemoryOptions {
  /** The name to create or attach to; default: a new random one (with `create`). A leading `/` is ignored. */
  name?: string;
  /** Make a new block (`size` bytes, zeroed); default false: attach to an existing one. */
  create?: boolean;
  /** Bytes of a new block (> 0). Ignored when attaching: the block keeps its own size. */
  size?: number;
}

function checkName(name: unknown): string {
  if (typeof name !== "string") throw new TypeError(`Expected \`name\` to be a string, got ${typeof name}`);
  const n = name.startsWith("/") ? name.slice(1) : name;
  if (n.length === 0 || n.length > 255 || /[/\0\n]/.test(n) || n === "." || n === "..") {
    throw new RangeError(`bad shared memory name ${JSON.stringify(name)} (no "/", NUL or newline inside, 1-255 characters)`);
  }
  return n;
}

/**
 * A named block of shared memory.
 *
 * @example
 * const shm = new SharedMemory({ create: true, size: 512 });
 * shm.buf[0] = 42;
 * // elsewhere, even in a process this program did not start:
 * const same = new SharedMemory({ name: shm.name });
 * same.buf[0]; // 42
 * same.close();
 * shm.close();
 * shm.unlink();
 */
export class SharedMemory {
  /** Handle type name. */
  static readonly handleType: string = TYPE;
  /** The name other processes attach with. */
  readonly name: string;
  /** Bytes of the block. */
  readonly size: number;
  #buf: Uint8Array | undefined;

  constructor(opts: SharedMemoryOptions = {}) {
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object");
    const create = opts.create === true;
    if (!create && opts.name === undefined) throw new RangeError("attaching needs the `name` of an existing SharedMemory (or pass `create: true`)");
    if (create) {
      if (typeof opts.size !== "number" || !Number.isInteger(opts.size) || opts.size <= 0) {
        throw new RangeError(`a new SharedMemory needs a size > 0 (bytes), got ${String(opts.size)}`);
      }
    }
    let name = opts.name === undefined ? undefined : checkName(opts.name);
    let mapped: { buffer: SharedArrayBuffer; size: number } | undefined;
    // a generated name that is taken already is replaced by another (as Python retries)
    for (let tries = 0; !mapped; tries++) {
      const candidate = name ?? `ipc_${randomBytes(8).toString("hex")}`;
      try {
        mapped = nativeShmOpen(candidate, create, opts.size ?? 0);
        name = candidate;
      } catch (e) {
        if (name === undefined && (e as NodeJS.ErrnoException).code === "EEXIST" && tries < 100) continue;
        throw e;
      }
    }
    this.name = name!;
    this.size = mapped.size;
    // unlinked when this process tree is gone, unless unlink() comes first (segment-tracker.ts)
    if (create) trackSegment(this.name);
    this.#buf = new Uint8Array(mapped.buffer, 0, mapped.size);
  }

  /** The block's bytes. @throws ClosedError after `close()`. */
  get buf(): Uint8Array {
    if (!this.#buf) throw new ClosedError("the SharedMemory is closed");
    return this.#buf;
  }

  /**
   * Lets go of this object's view (the memory is unmapped once no view of it is left in this
   * process). The block itself lives on until `unlink()` and its last user.
   */
  close(): void {
    this.#buf = undefined;
  }

  /**
   * Removes the name: no one can attach any more; the memory is freed once every process has let
   * go of it. Call it once, from one process. @throws an error with `code` `ENOENT` when the name
   * is gone already.
   */
  unlink(): void {
    nativeShmUnlink(this.name);
    untrackSegment(this.name);
  }

  /** @internal handed on by name, with a proof that a process of this tree made the handle */
  [toHandle](): HandleDescriptor {
    return { type: TYPE, module: import.meta.url, state: { name: this.name, mac: macOf(this.name) } };
  }

  toString(): string {
    return `<SharedMemory name=${JSON.stringify(this.name)} size=${this.size}${this.#buf ? "" : " closed"}>`;
  }
}

/**
 * The proof a handle carries: an HMAC of the name under the tree's authkey (inherited by every
 * thread and child). A handle that did not come from this tree cannot make a receiver map some
 * other program's segment by naming it.
 */
function macOf(name: string): string {
  return createHmac("sha256", currentAuthkey()).update(`@ipc/shared:SharedMemory:${name}`).digest("hex");
}

registerHandleType(TYPE, (state: { name?: unknown; mac?: unknown }) => {
  if (typeof state?.name !== "string" || typeof state.mac !== "string") throw new IpcError("bad SharedMemory handle");
  const expected = Buffer.from(macOf(state.name), "hex");
  const given = Buffer.from(state.mac, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new IpcError("refused a SharedMemory handle that was not made by this process tree");
  }
  return new SharedMemory({ name: state.name });
});

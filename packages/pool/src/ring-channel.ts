/**
 * A one-way message channel over a core Ring (threads of one process): the writer puts codec
 * frames, the reader takes them. Used in pairs (tasks in, results out) for thread-context workers.
 */
import { atomicsBackend, Deadline, deserialize, driveAsync, driveSync, EmptyError, FullError, HEAD_LOCK, Ring, serialize, TAIL_LOCK } from "@ipc/core/slim";

const forever = () => new Deadline(Infinity);
const fullErr = () => new FullError("channel full");
const emptyErr = () => new EmptyError("channel empty");
const decode = (b: Uint8Array) => deserialize(b);

/** Default bytes of each ring. */
export const CHANNEL_BYTES = 1 << 20;

/** Allocates the shared memory of one channel. */
export function allocateChannel(bytes = CHANNEL_BYTES): SharedArrayBuffer {
  return Ring.allocate(bytes, 0);
}

/**
 * One end of a ring channel. Both ends are threads of one process, so large messages are handed
 * over (`put`'s `handOver`: copied once into a native block whose token crosses the ring).
 */
export class RingChannel {
  readonly ring: Ring;
  constructor(readonly buffer: SharedArrayBuffer) {
    this.ring = new Ring(buffer, 0, atomicsBackend);
  }

  /** Writes encoded bytes, blocking the thread while the ring is full. */
  sendRaw(bytes: Uint8Array): void {
    const d = forever();
    driveSync(this.ring, TAIL_LOCK, d, this.ring.put(bytes, d, false, false, true), fullErr);
  }

  /** Writes a message without blocking the event loop. */
  async send(msg: unknown): Promise<void> {
    const d = forever();
    await driveAsync(this.ring, TAIL_LOCK, d, this.ring.put(serialize(msg), d, false, false, true), fullErr);
  }

  /** Reads a message, blocking the thread. */
  recvSync<T>(): T {
    const d = forever();
    return driveSync(this.ring, HEAD_LOCK, d, this.ring.get(d, decode), emptyErr) as T;
  }

  /** Reads a message if one is there or comes within `ms`, else undefined. */
  tryRecv<T>(ms = 0): T | undefined {
    const d = new Deadline(ms);
    try {
      return driveSync(this.ring, HEAD_LOCK, d, this.ring.get(d, decode), emptyErr) as T;
    } catch (e) {
      if (e instanceof EmptyError) return undefined;
      throw e;
    }
  }

  /** Reads a message without blocking the event loop; the signal stops the wait. */
  async recv<T>(signal?: AbortSignal): Promise<T> {
    const d = forever();
    return (await driveAsync(this.ring, HEAD_LOCK, d, this.ring.get(d, decode), emptyErr, signal)) as T;
  }
}

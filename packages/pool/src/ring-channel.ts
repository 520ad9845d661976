/**
 * A one-way message channel over a core Ring (threads of one process): the writer puts codec
 * frames, the reader takes them. Used in pairs (tasks in, results out) for thread-context workers.
 */
import { atomicsBackend, Deadline, deserialize, EmptyError, NOT_NOW, Ring, serialize } from "@ipc/core/slim";

/** Both ends are threads of one process: large messages are handed over. */
const HAND_OVER = { handOver: true } as const;
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
    this.ring.putSync(bytes, HAND_OVER);
  }

  /** Writes a message without blocking the event loop. */
  async send(msg: unknown): Promise<void> {
    await this.ring.putAsync(serialize(msg), HAND_OVER);
  }

  /** Reads a message, blocking the thread. */
  recvSync<T>(): T {
    return this.ring.getSync(decode) as T;
  }

  /** True when a message is waiting (a cheap look: no lock). */
  pending(): boolean {
    return this.ring.count() > 0;
  }

  /** Reads a message if one is there or comes within `ms`, else undefined. */
  tryRecv<T>(ms = 0): T | undefined {
    const got = this.ring.tryGetFrame(decode);
    if (got !== NOT_NOW) return got as T;
    try {
      return this.ring.getSync(decode, { deadline: new Deadline(ms) }) as T;
    } catch (e) {
      if (e instanceof EmptyError) return undefined;
      throw e;
    }
  }

  /** Reads a message without blocking the event loop; the signal stops the wait. */
  async recv<T>(signal?: AbortSignal): Promise<T> {
    return (await this.ring.getAsync(decode, { signal })) as T;
  }
}

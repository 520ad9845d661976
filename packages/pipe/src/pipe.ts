/** Pipe(): two connected ends, as Python's `multiprocessing.Pipe`. */
import { atomicsBackend, checkInt } from "@ipc/core/internal";
import { Channel, checkMaxMessageSize, DEFAULT_PIPE_RING } from "./channel.js";
import { Connection } from "./connection.js";

/** Options of {@link Pipe}. */
export interface PipeOptions {
  /** Both ends send and receive (default). `false`: `[reader, writer]`, as in Python. */
  duplex?: boolean;
  /**
   * Bytes of shared memory per direction, a power of two >= 4096; default 256 KiB. Messages of
   * any size pass (larger ones stream through in pieces); a bigger ring lets a sender run further
   * ahead of its reader.
   */
  ringSize?: number;
  /**
   * Largest message either end may send, in bytes (serialized size for `send`); a larger one
   * throws MessageTooLargeError on the sender and the connection stays usable. Default: no limit
   * (any message a Uint8Array can hold).
   */
  maxMessageSize?: number;
}

/**
 * Creates a pipe and returns its two ends. Each end can be used here, handed to a worker thread
 * or a child process (as a Process argument or inside a message) and keeps working there.
 *
 * @example
 * // echo: a function this module exports
 * const [parent, child] = Pipe();
 * const p = new Process({ module: import.meta.url, target: echo, args: [child] });
 * p.start();
 * parent.send([1, 2.25, null]);
 * await parent.recv(); // [1, 2.25, null]
 */
export function Pipe<A = unknown, B = unknown>(opts: PipeOptions = {}): [Connection<A, B>, Connection<B, A>] {
  if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object");
  const duplex = opts.duplex ?? true;
  if (typeof duplex !== "boolean") throw new TypeError(`Expected \`duplex\` to be a boolean, got ${typeof duplex}`);
  const ringSize = checkInt(opts.ringSize ?? DEFAULT_PIPE_RING, "ringSize", 4096, 1 << 30);
  if ((ringSize & (ringSize - 1)) !== 0) throw new RangeError(`Expected \`ringSize\` to be a power of two, got \`${ringSize}\``);
  const maxMessage = checkMaxMessageSize(opts.maxMessageSize);
  // in memory other processes map when @ipc/native is loaded: an end handed to a child process is used there directly
  const channel = Channel.allocateNative(duplex, ringSize) ?? new Channel(Channel.allocate(duplex, ringSize), atomicsBackend);
  channel.setMaxMessage(maxMessage);
  channel.hold(0);
  channel.hold(1);
  return [Connection.over<A, B>(channel, 0), Connection.over<B, A>(channel, 1)];
}

/**
 * Listener and Client: connections between processes that were not started together (or between
 * machines), over Unix sockets or TCP, as in Python's `multiprocessing.connection`. The sockets
 * live in the process's broker thread; each accepted or opened connection is relayed to a pipe in
 * shared memory, so the returned Connection behaves like a Pipe end (sync methods, handing it to
 * a thread or a child process).
 */
import { ClosedError } from "@ipc/core";
import { arbitraryAddress, atomicsBackend, checkInt, formatAddress, runInBroker, runInBrokerSync, toAuthkey, type Address } from "@ipc/core/internal";
import { Channel, checkMaxMessageSize } from "./channel.js";
import { Connection } from "./connection.js";
import type { Accepted } from "./io-tasks.js";
import { IO_TASKS } from "./io-url.js";

/** A listener's or client's address: a Unix socket path (`"\0name"`: Linux abstract namespace) or a TCP host and port. */
export type ListenerAddress = string | { host: string; port: number };

/** Options of {@link Listener}. */
export interface ListenerOptions {
  /** Where to listen; default: a new Unix socket path for `'unix'`, `127.0.0.1` on a free port for `'tcp'`. */
  address?: ListenerAddress;
  /** Inferred from `address` when omitted; `'unix'` without one. */
  family?: "unix" | "tcp";
  /** Pending connections the OS queues; default 1, as in Python. */
  backlog?: number;
  /** Shared secret: every connection must pass an HMAC challenge both ways. None: no authentication (Python's default). */
  authkey?: Uint8Array | string;
  /**
   * Largest message, in bytes, either side of an accepted connection may send: this side's
   * sends over it throw MessageTooLargeError, and a peer that sends a larger one is cut off
   * (the receiver reads a ProtocolError). Default: no limit.
   */
  maxMessageSize?: number;
}

/** Options of {@link Client}. */
export interface ClientOptions {
  /** Shared secret the listener was given; none when it has none. */
  authkey?: Uint8Array | string;
  /** As {@link ListenerOptions.maxMessageSize}, for this connection. */
  maxMessageSize?: number;
}

function checkAddress(address: unknown, family: "unix" | "tcp" | undefined): Address {
  if (typeof address === "string") {
    if (family === "tcp") throw new TypeError("a 'tcp' listener needs an address { host, port }");
    if (process.platform !== "win32" && address.startsWith("\\\\.\\pipe\\")) throw new RangeError(`a Windows named pipe address cannot be used here: ${address}`);
    if (address.length === 0) throw new RangeError("Expected `address` to be a non-empty path");
    return address;
  }
  if (typeof address === "object" && address !== null) {
    if (family === "unix") throw new TypeError("a 'unix' listener needs a socket path");
    const { host, port } = address as { host: unknown; port: unknown };
    if (typeof host !== "string") throw new TypeError(`Expected \`address.host\` to be a string, got ${typeof host}`);
    return { host, port: checkInt(port, "address.port", 0, 65535) };
  }
  throw new TypeError(`Expected \`address\` to be a path or { host, port }, got ${address === null ? "null" : typeof address}`);
}

function authkeyOf(authkey: Uint8Array | string | undefined): Uint8Array | null {
  return authkey === undefined ? null : new Uint8Array(toAuthkey(authkey));
}

/**
 * Accepts connections. Binding happens in the constructor (an address in use throws there).
 *
 * @example
 * const listener = new Listener({ authkey: "secret" });
 * const conn = await listener.accept();
 * await conn.recv();
 */
export class Listener {
  /** Where clients connect (for TCP with port 0, the port the OS chose). */
  readonly address: ListenerAddress;
  readonly #id: number;
  #closed = false;
  /**
   * The address of the peer of the last accepted connection (Python's `last_accepted`):
   * `{ host, port }` over TCP, `null` over a Unix socket or before any accept.
   */
  lastAccepted: { host: string; port: number } | null = null;

  constructor(opts: ListenerOptions = {}) {
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object");
    const family = opts.family;
    if (family !== undefined && family !== "unix" && family !== "tcp") throw new TypeError(`Expected \`family\` to be 'unix' or 'tcp', got ${String(family)}`);
    const wanted =
      opts.address === undefined ? (family === "tcp" ? { host: "127.0.0.1", port: 0 } : arbitraryAddress("ipc-listener")) : checkAddress(opts.address, family);
    const backlog = checkInt(opts.backlog ?? 1, "backlog", 0, 65535);
    const maxMessage = checkMaxMessageSize(opts.maxMessageSize);
    const { id, address } = runInBrokerSync(IO_TASKS, "listen", [wanted, backlog, authkeyOf(opts.authkey), maxMessage]) as {
      id: number;
      address: Address;
    };
    this.#id = id;
    this.address = address;
  }

  /**
   * The next connection. @throws AuthenticationError when a client fails the challenge (the
   * listener keeps accepting), ClosedError once the listener is closed.
   */
  async accept(): Promise<Connection> {
    if (this.#closed) throw new ClosedError("the listener is closed");
    const got = (await runInBroker(IO_TASKS, "accept", [this.#id])) as Accepted;
    this.lastAccepted = got.peer;
    return Connection.adopt(new Channel(got.sab, atomicsBackend), 0, got.from);
  }

  /** Stops listening (idempotent); accepted connections stay open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    runInBrokerSync(IO_TASKS, "closeListener", [this.#id]);
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `<Listener ${formatAddress(this.address)}${this.#closed ? " closed" : ""}>`;
  }
}

/**
 * Connects to a {@link Listener}. With `authkey`, both sides prove they know it (HMAC challenge
 * both ways). @throws AuthenticationError for a wrong key, the OS error when nobody listens.
 */
export async function Client(address: ListenerAddress, opts: ClientOptions = {}): Promise<Connection> {
  if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object");
  const maxMessage = checkMaxMessageSize(opts.maxMessageSize);
  const got = (await runInBroker(IO_TASKS, "connect", [checkAddress(address, undefined), authkeyOf(opts.authkey), maxMessage])) as Accepted;
  return Connection.adopt(new Channel(got.sab, atomicsBackend), 0, got.from);
}

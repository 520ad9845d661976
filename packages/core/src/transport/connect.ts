/** Opening authenticated framed connections, as a client or as a server. */
import { connect as netConnect, createServer, type Server } from "node:net";
import { unlinkSync } from "node:fs";
import { type Address, formatAddress, netOptions } from "./address.js";
import { clientHandshake, serverHandshake } from "./auth.js";
import { FramedSocket, type FramedSocketOptions } from "./framed-socket.js";

/** Options of {@link connectFramed}. */
export interface ConnectOptions extends FramedSocketOptions {
  /** Shared secret for the mutual challenge; none skips authentication. */
  authkey?: Buffer;
  /** Keep retrying a refused or missing address for this long (ms); default 0. */
  retryFor?: number;
  /** Handshake timeout (ms); default 10 s. */
  timeout?: number;
}

function rawConnect(address: Address): Promise<import("node:net").Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(netOptions(address) as never);
    socket.once("connect", () => {
      socket.removeListener("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Connects to `address` and runs the client side of the handshake. */
export async function connectFramed(address: Address, options: ConnectOptions = {}): Promise<FramedSocket> {
  const until = performance.now() + (options.retryFor ?? 0);
  let delay = 5;
  for (;;) {
    try {
      const socket = await rawConnect(address);
      const conn = new FramedSocket(socket, options.authkey ? options : { ...options, refuseChallenge: true });
      if (options.authkey) {
        try {
          await clientHandshake(conn, options.authkey, options.timeout);
        } catch (e) {
          conn.destroy(e as Error);
          throw e;
        }
      } else conn.authenticated();
      return conn;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === "ENOENT" || code === "ECONNREFUSED") && performance.now() < until) {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 100);
        continue;
      }
      throw e;
    }
  }
}

/** Options of {@link listenFramed}. */
export interface ListenOptions extends FramedSocketOptions {
  authkey?: Buffer;
  backlog?: number;
  timeout?: number;
  /** A connection that passed the handshake. */
  onConnection: (conn: FramedSocket) => void;
  /** A connection that failed the handshake or broke the protocol (the server keeps going). */
  onRejected?: (error: Error) => void;
  /**
   * Connections still in their handshake at once; one more is closed at once. Default 64: with
   * the handshake's timeout and its byte limit, unauthenticated peers hold bounded memory.
   */
  maxHandshaking?: number;
}

/** Default {@link ListenOptions.maxHandshaking}. */
const MAX_HANDSHAKING = 64;

/** Listens on `address`; every accepted connection is authenticated before it is handed over. */
export function listenFramed(address: Address, options: ListenOptions): Promise<Server> {
  let handshaking = 0;
  const server = createServer((socket) => {
    if (options.authkey && handshaking >= (options.maxHandshaking ?? MAX_HANDSHAKING)) {
      socket.destroy();
      return;
    }
    const conn = new FramedSocket(socket, options);
    if (!options.authkey) {
      conn.authenticated();
      options.onConnection(conn);
      return;
    }
    handshaking++;
    serverHandshake(conn, options.authkey, options.timeout).then(
      () => {
        handshaking--;
        options.onConnection(conn);
      },
      (e: Error) => {
        handshaking--;
        conn.destroy(e);
        options.onRejected?.(e);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ ...netOptions(address), backlog: options.backlog }, () => {
      server.removeListener("error", reject);
      if (typeof address === "string" && process.platform !== "win32") {
        server.once("close", () => {
          try {
            unlinkSync(address);
          } catch {
            // already gone
          }
        });
      }
      resolve(server);
    });
  }).catch((e) => {
    throw Object.assign(e as Error, { message: `cannot listen on ${formatAddress(address)}: ${(e as Error).message}` });
  }) as Promise<Server>;
}

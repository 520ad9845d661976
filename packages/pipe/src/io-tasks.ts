/**
 * Tasks run in a process's broker thread (core's `runInBroker`): the socket side of connections.
 * Each connection's socket lives here, relayed to a pipe in shared memory whose other end the
 * user holds (relay.ts), so the user's thread can block in `recvSync` while data keeps arriving.
 * Not part of the public API.
 */
import type { Server } from "node:net";
import { ClosedError, serialize } from "@ipc/core";
import { atomicsBackend, connectFramed, localOwnerId, listenFramed, toAuthkey, type Address, type FramedSocket } from "@ipc/core/internal";
import { Channel, DEFAULT_PIPE_RING } from "./channel.js";
import { connectingRelay, startRelay } from "./relay.js";

export { settleRelays } from "./relay.js";

/** What the user's thread adopts: end 0 of a new duplex pipe, counted in flight for it. */
export interface Accepted {
  sab: SharedArrayBuffer;
  from: number;
  /** The peer's address: `{ host, port }` over TCP, `null` over a Unix socket (unnamed clients). */
  peer: { host: string; port: number } | null;
}

/**
 * A new duplex pipe relayed to `conn` through end 1; end 0 is counted in flight for the caller.
 * `maxMessage` (0: none) bounds what the user's end may send (its socket's decoder bounds what
 * the peer may send).
 */
function relayed(conn: FramedSocket, maxMessage: number): Accepted {
  const sab = Channel.allocate(true, DEFAULT_PIPE_RING);
  const channel = new Channel(sab, atomicsBackend);
  channel.setPeer();
  channel.setMaxMessage(maxMessage);
  channel.hold(1);
  channel.hold(0);
  const { remoteAddress, remotePort } = conn.socket;
  startRelay(channel, 1, conn, "peer");
  return { sab, from: localOwnerId, peer: remoteAddress !== undefined && remotePort !== undefined ? { host: remoteAddress, port: remotePort } : null };
}

/**
 * Joins end `far` of a local pipe to end `end` of a pipe in another process (at the broker
 * `address`, object `obj`): the revived end of a Connection sent to this process.
 */
export async function bridge(
  sab: SharedArrayBuffer,
  far: number,
  localFrom: number,
  address: string,
  obj: number,
  end: number,
  homeFrom: number,
  authkey: Uint8Array,
): Promise<void> {
  const channel = new Channel(sab, atomicsBackend);
  channel.takeOver(far, localFrom);
  let conn: FramedSocket;
  try {
    conn = await connectingRelay(connectFramed(address, { authkey: Buffer.from(authkey), retryFor: 10_000 }));
  } catch (e) {
    channel.release(far);
    throw e;
  }
  conn.send(serialize({ t: "attach", obj, a: [end, homeFrom] }));
  startRelay(channel, far, conn, "far");
}

interface ListenerState {
  server: Server;
  maxMessage: number;
  ready: (FramedSocket | Error)[];
  waiting: { resolve: (c: FramedSocket) => void; reject: (e: Error) => void }[];
  closed: boolean;
}

const listeners = new Map<number, ListenerState>();
/** Connections (and failed handshakes) a listener holds for `accept()`; later ones are closed. */
const MAX_UNACCEPTED = 64;
let nextListener = 1;

/** Listens on `address`; returns the listener's id and the bound address. */
export async function listen(address: Address, backlog: number, authkey: Uint8Array | null, maxMessage: number): Promise<{ id: number; address: Address }> {
  const id = nextListener++;
  const state: ListenerState = { server: undefined as never, maxMessage, ready: [], waiting: [], closed: false };
  const deliver = (item: FramedSocket | Error) => {
    const w = state.waiting.shift();
    if (!w) {
      // connections not accepted yet are bounded in number (each in bytes: FramedSocket's maxBuffered)
      if (state.ready.length >= MAX_UNACCEPTED) {
        if (!(item instanceof Error)) item.close();
        return;
      }
      state.ready.push(item);
    }
    else if (item instanceof Error) w.reject(item);
    else w.resolve(item);
  };
  state.server = await listenFramed(address, {
    authkey: authkey ? toAuthkey(authkey) : undefined,
    backlog,
    maxMessageSize: maxMessage || undefined,
    onConnection: deliver,
    // Python's accept() raises AuthenticationError for a client that fails the challenge
    onRejected: deliver,
  });
  listeners.set(id, state);
  const bound = state.server.address();
  const actual: Address = typeof bound === "object" && bound !== null ? { host: bound.address, port: bound.port } : address;
  return { id, address: actual };
}

/** Accepts the next authenticated connection of listener `id`. */
export async function accept(id: number): Promise<Accepted> {
  const state = listeners.get(id);
  if (!state || state.closed) throw new ClosedError("the listener is closed");
  const next = state.ready.shift();
  if (next instanceof Error) throw next;
  const conn = next ?? (await new Promise<FramedSocket>((resolve, reject) => state.waiting.push({ resolve, reject })));
  return relayed(conn, state.maxMessage);
}

/** Closes listener `id`: pending accepts fail, connections not yet accepted are closed. */
export function closeListener(id: number): void {
  const state = listeners.get(id);
  if (!state) return;
  listeners.delete(id);
  state.closed = true;
  state.server.close();
  for (const w of state.waiting) w.reject(new ClosedError("the listener is closed"));
  for (const c of state.ready) if (!(c instanceof Error)) c.close();
}

/** Connects to a listener at `address`. */
export async function connect(address: Address, authkey: Uint8Array | null, maxMessage: number): Promise<Accepted> {
  const conn = await connectFramed(address, { authkey: authkey ? toAuthkey(authkey) : undefined, maxMessageSize: maxMessage || undefined });
  return relayed(conn, maxMessage);
}

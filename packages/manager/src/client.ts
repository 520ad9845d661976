/**
 * The client side: one authenticated connection per manager address in this isolate, shared by
 * every proxy to that manager; calls are matched to replies by id. The socket does not keep the
 * process alive while no call is pending.
 */
import { AuthenticationError, ClosedError, currentAuthkey, deserialize, serialize } from "@ipc/core";
import { abortReason, connectFramed, formatAddress, isolateState, type Address, type FramedSocket } from "@ipc/core/internal";
import type { Reply, RequestBody } from "./protocol.js";
import { type RefScope, withRefScope } from "./ref-scope.js";

/** A call waiting for its reply; `signal`/`onAbort` when it can be cancelled. */
interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}
interface Link {
  conn: Promise<FramedSocket>;
  /** The connection once it is up (calls then write at once, without waiting on `conn`). */
  socket: FramedSocket | undefined;
  pending: Map<number, Pending>;
  /** references to give back at the next flush (objects collected with their proxies) */
  decrefs: Map<number, number>;
  /** A proxy of this same manager inside a request is counted by the server as it revives it. */
  sendScope: RefScope;
  /** No longer in `links` (closed, failed or dropped): the next call makes a new one. */
  dropped: boolean;
}

const links = new Map<string, Link>();
/** Authkeys of managers this isolate was told about (BaseManager with its own authkey). */
const keys = isolateState("@ipc/manager:authkeys", () => new Map<string, Buffer>());
let nextId = 1;
/** The key of the connection whose reply is being decoded: proxies inside it use it too. */
let decoding: Buffer | undefined;
/** The manager whose reply is being decoded (it counted a reference for each proxy inside). */
let decodingFrom: Address | undefined;

/** The manager key proxies revived right now should use (those inside a reply), if any. */
export function decodingAuthkey(): Buffer | undefined {
  return decoding;
}

/** True while decoding a reply of the manager at `address` (which counted the proxies in it for this client). */
export function decodingReplyOf(address: Address): boolean {
  return decodingFrom !== undefined && sameAddress(decodingFrom, address);
}

/** True when two manager addresses are the same. */
export function sameAddress(a: Address, b: Address): boolean {
  return keyOf(a) === keyOf(b);
}

const keyOf = (address: Address) => (typeof address === "string" ? address : `${address.host}:${address.port}`);

/** Uses `authkey` for the manager at `address` (instead of this process's authkey). */
export function setManagerAuthkey(address: Address, authkey: Buffer): void {
  keys.set(keyOf(address), authkey);
}

/** The key a link to `address` uses: `given`, else the one set for the address, else the process's. */
function authkeyFor(address: Address, given: Buffer | undefined): Buffer {
  return given ?? keys.get(keyOf(address)) ?? currentAuthkey();
}

/** Hex of each key met (a link is looked up on every call). */
const hexOfKey = new WeakMap<Buffer, string>();

/** One connection per address and key: a client with another key must prove it on its own. */
function linkKey(address: Address, authkey: Buffer): string {
  let hex = hexOfKey.get(authkey);
  if (hex === undefined) hexOfKey.set(authkey, (hex = authkey.toString("hex")));
  return `${keyOf(address)}#${hex}`;
}

/** Settles a pending call (and stops listening to its signal). */
function settle(p: Pending, ok: boolean, v: unknown): void {
  if (p.onAbort) p.signal!.removeEventListener("abort", p.onAbort);
  if (ok) p.resolve(v);
  else p.reject(v);
}

/** The last link a call used, and what it was looked up by (calls in a row use the same one). */
let last: { address: Address; authkey: Buffer; link: Link } | undefined;

function link(address: Address, given: Buffer | undefined): Link {
  const authkey = authkeyFor(address, given);
  if (last !== undefined && last.address === address && last.authkey === authkey && !last.link.dropped) return last.link;
  const l = findLink(address, authkey);
  last = { address, authkey, link: l };
  return l;
}

function findLink(address: Address, authkey: Buffer): Link {
  const key = linkKey(address, authkey);
  let l = links.get(key);
  if (l) return l;
  const pending = new Map<number, Pending>();
  const fail = (why: string, cause?: Error) => {
    if (links.get(key) === l) links.delete(key);
    l!.dropped = true;
    // a refused key is said as such (Python's AuthenticationError); anything else closed the link
    const error = cause instanceof AuthenticationError ? new AuthenticationError(why, { cause }) : new ClosedError(why, cause ? { cause } : undefined);
    for (const p of pending.values()) settle(p, false, error);
    pending.clear();
  };
  const conn = connectFramed(address, { authkey, retryFor: 2000 }).then((c) => {
    c.setHandler((frame) => {
      decoding = authkey;
      decodingFrom = address;
      let r: Reply;
      try {
        r = deserialize<Reply>(frame, { peer: true });
      } finally {
        decoding = undefined;
        decodingFrom = undefined;
      }
      const p = pending.get(r.id);
      if (!p) return;
      pending.delete(r.id);
      if (pending.size === 0) c.socket.unref();
      settle(p, r.t === "ok", r.t === "ok" ? r.v : r.e);
    });
    c.onClose((error) => fail(`lost the connection to the manager at ${formatAddress(address)}${error ? `: ${error.message}` : ""}`));
    // only a pending call keeps the process alive (a connection made to take a reference does not)
    if (pending.size === 0) c.socket.unref();
    else c.socket.ref();
    if (!c.closed) l!.socket = c;
    return c;
  });
  conn.catch((e: Error) => fail(`cannot reach the manager at ${formatAddress(address)}: ${e.name}: ${e.message}`, e));
  l = { conn, socket: undefined, pending, decrefs: new Map(), sendScope: { sent: (ref) => sameAddress(ref.address, address), revived: () => false }, dropped: false };
  links.set(key, l);
  return l;
}

/**
 * Sends `bytes` on the link, at once when it is up, else once it is (in order either way). A link
 * that closed meanwhile sends nothing: its close fails the calls waiting on it.
 */
function write(l: Link, bytes: Uint8Array): void {
  const c = l.socket;
  if (c !== undefined && !c.closed) c.send(bytes);
  else
    l.conn.then(
      (c) => {
        if (!c.closed) c.send(bytes);
      },
      () => {},
    );
}

/** Sends a message that has no reply on the link (in order with the calls made before it). */
function post(l: Link, req: RequestBody): void {
  write(l, serialize({ ...req, id: 0 }));
}

/** Takes `n` more references to object `id` of the manager at `address` for this isolate. */
export function increfRemote(address: Address, authkey: Buffer | undefined, id: number, n = 1): void {
  post(link(address, authkey), { t: "incref", refs: [[id, n]] });
}

/**
 * Gives back a reference to object `id`: at once (`now`: in order with later calls), else with
 * the others collected in this turn of the event loop, in one message.
 */
export function decrefRemote(address: Address, authkey: Buffer | undefined, id: number, now: boolean): void {
  // no connection any more: the server dropped every reference it held
  const l = links.get(linkKey(address, authkeyFor(address, authkey)));
  if (!l) return;
  if (now) return post(l, { t: "decref", refs: [[id, 1]] });
  const first = l.decrefs.size === 0;
  l.decrefs.set(id, (l.decrefs.get(id) ?? 0) + 1);
  if (first) {
    setImmediate(() => {
      const refs = [...l.decrefs];
      l.decrefs.clear();
      if (refs.length > 0) post(l, { t: "decref", refs });
    }).unref();
  }
}

/**
 * Sends `req` (its id is filled in) to the manager at `address` and resolves with the result.
 * `authkey`: the manager's key; default the one given for `address`, else this process's.
 * `signal`: rejects at once with its reason and tells the server the call is no longer wanted (a
 * wait it parked ends there).
 */
export function managerCall(address: Address, req: RequestBody, authkey?: Buffer, signal?: AbortSignal): Promise<unknown> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const l = link(address, authkey);
  const id = nextId++;
  let bytes: Uint8Array;
  try {
    // the request is the caller's fresh literal: it takes its id in place
    (req as RequestBody & { id: number }).id = id;
    bytes = withRefScope(l.sendScope, () => serialize(req));
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const p: Pending = { resolve, reject };
    if (signal) {
      p.signal = signal;
      p.onAbort = () => {
        if (!l.pending.delete(id)) return;
        reject(abortReason(signal));
        write(l, serialize({ t: "cancel", id }));
        if (l.pending.size === 0) l.socket?.socket.unref();
      };
      signal.addEventListener("abort", p.onAbort, { once: true });
    }
    // a pending call keeps the process alive (the link refs its socket once it is up)
    if (l.pending.size === 0) l.socket?.socket.ref();
    l.pending.set(id, p);
    write(l, bytes);
  });
}

/** Closes this isolate's connections to the manager at `address` (their pending calls fail). */
export function dropManagerLink(address: Address): void {
  const prefix = `${keyOf(address)}#`;
  for (const [key, l] of links) {
    if (!key.startsWith(prefix)) continue;
    links.delete(key);
    l.dropped = true;
    void l.conn.then((c) => c.close(), () => {});
  }
}

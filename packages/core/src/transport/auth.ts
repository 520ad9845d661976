/**
 * HMAC-SHA256 challenge-response on a shared authkey, run both ways before any other frame is read
 * (the scheme of Python's `multiprocessing.connection.deliver_challenge`/`answer_challenge`, with the
 * `{sha256}` digest prefix of Python 3.12+).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { AuthenticationError, EOFError } from "../errors/errors.js";
import type { FramedSocket } from "./framed-socket.js";

const CHALLENGE = Buffer.from("#CHALLENGE#");
const WELCOME = Buffer.from("#WELCOME#");
const FAILURE = Buffer.from("#FAILURE#");
const PREFIX = Buffer.from("{sha256}");
const NONCE_BYTES = 40;

/** True when `frame` is an authkey challenge (what a listener with an authkey sends first). */
export function isChallenge(frame: Uint8Array): boolean {
  return Buffer.from(frame.buffer, frame.byteOffset, Math.min(frame.byteLength, CHALLENGE.length)).equals(CHALLENGE);
}

function digest(key: Buffer, message: Buffer): Buffer {
  return Buffer.concat([PREFIX, createHmac("sha256", key).update(message).digest()]);
}

/** Challenges the peer to prove it knows `key`. @throws AuthenticationError when it does not. */
export async function deliverChallenge(conn: FramedSocket, key: Buffer, timeout?: number): Promise<void> {
  const message = Buffer.concat([PREFIX, randomBytes(NONCE_BYTES)]);
  conn.send(Buffer.concat([CHALLENGE, message]));
  const response = await conn.readFrame(timeout).catch((e: unknown) => {
    // a peer without the authkey (a client given none) hangs up on the challenge
    if (e instanceof EOFError) throw new AuthenticationError("the peer closed the connection instead of answering the challenge (does it have the authkey?)");
    throw e;
  });
  const expected = digest(key, message);
  if (response.length !== expected.length || !timingSafeEqual(response, expected)) {
    conn.send(FAILURE);
    throw new AuthenticationError("digest received was wrong");
  }
  conn.send(WELCOME);
  // on the wire now: whatever is written next (framed or not) comes after the handshake
  conn.flush();
}

/** Answers the peer's challenge with `key`. @throws AuthenticationError when the peer rejects it. */
export async function answerChallenge(conn: FramedSocket, key: Buffer, timeout?: number): Promise<void> {
  const frame = await conn.readFrame(timeout);
  if (!isChallenge(frame)) {
    throw new AuthenticationError(`protocol error: expected a challenge, got ${frame.length} other bytes`);
  }
  conn.send(digest(key, frame.subarray(CHALLENGE.length)));
  const verdict = await conn.readFrame(timeout);
  if (!verdict.equals(WELCOME)) throw new AuthenticationError("digest sent was rejected");
}

/** Server side of a mutual handshake: challenge the client, then answer its challenge. */
export async function serverHandshake(conn: FramedSocket, key: Buffer, timeout?: number): Promise<void> {
  await deliverChallenge(conn, key, timeout);
  await answerChallenge(conn, key, timeout);
  conn.authenticated();
}

/** Client side of a mutual handshake. */
export async function clientHandshake(conn: FramedSocket, key: Buffer, timeout?: number): Promise<void> {
  await answerChallenge(conn, key, timeout);
  await deliverChallenge(conn, key, timeout);
  conn.authenticated();
}

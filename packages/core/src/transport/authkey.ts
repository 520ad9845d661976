/**
 * The process authkey: a random secret every child inherits (through the `IPC_AUTHKEY`
 * environment variable, hex), used to authenticate connections between a family of processes,
 * as `current_process().authkey` is in Python.
 */
import { randomBytes } from "node:crypto";

const ENV = "IPC_AUTHKEY";

function initial(): Buffer {
  const inherited = process.env[ENV];
  if (inherited && /^(?:[0-9a-f]{2})+$/i.test(inherited)) return Buffer.from(inherited, "hex");
  const key = randomBytes(32);
  // set in this process's environment so that threads and children started later inherit it
  process.env[ENV] = key.toString("hex");
  return key;
}

let key: Buffer = initial();

/** This process's authkey. */
export function currentAuthkey(): Buffer {
  return key;
}

/** Replaces this process's authkey (children started afterwards inherit the new one). */
export function setAuthkey(value: Uint8Array | string): void {
  key = toAuthkey(value);
  process.env[ENV] = key.toString("hex");
}

/** Normalises an authkey option. */
export function toAuthkey(value: Uint8Array | string): Buffer {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`Expected \`authkey\` to be a Uint8Array or a string, got ${typeof value}`);
}

/** The environment variable children read their authkey from. */
export const AUTHKEY_ENV = ENV;

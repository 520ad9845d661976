import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where a listener is: a Unix socket path / Windows named pipe, or a TCP host and port. */
export type Address = string | { host: string; port: number };

/** A fresh Unix socket path (or named pipe on Windows) for this process. */
export function arbitraryAddress(prefix = "ipc"): string {
  const id = `${prefix}-${process.pid}-${randomBytes(6).toString("hex")}`;
  return process.platform === "win32" ? `\\\\.\\pipe\\${id}` : join(tmpdir(), `${id}.sock`);
}

/**
 * A fresh address for a socket only this process tree uses (the broker, a pool's links): on Linux
 * a name in the abstract socket namespace (`"\0..."`), which leaves no file behind however the
 * process ends (SIGKILL included); elsewhere {@link arbitraryAddress}. Such a name is reachable
 * from the same network namespace only, and every such socket requires the tree's authkey.
 */
export function privateAddress(prefix: string): string {
  if (process.platform !== "linux") return arbitraryAddress(prefix);
  return `\0${prefix}-${process.pid}-${randomBytes(6).toString("hex")}`;
}

/** `net.connect`/`listen` options for an address. */
export function netOptions(address: Address): { path: string } | { host: string; port: number } {
  if (typeof address === "string") return { path: address };
  return { host: address.host, port: address.port };
}

/** A printable form of an address. */
export function formatAddress(address: Address): string {
  // an abstract socket name is shown as Linux tools show it, with "@" for its leading NUL
  if (typeof address === "string") return address.startsWith("\0") ? `@${address.slice(1)}` : address;
  return `${address.host}:${address.port}`;
}

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

/** `net.connect`/`listen` options for an address. */
export function netOptions(address: Address): { path: string } | { host: string; port: number } {
  if (typeof address === "string") return { path: address };
  return { host: address.host, port: address.port };
}

/** A printable form of an address. */
export function formatAddress(address: Address): string {
  return typeof address === "string" ? address : `${address.host}:${address.port}`;
}

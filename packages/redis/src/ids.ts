/** Unique ids for consumers and workers: host, pid and random bits, readable in `redis-cli`. */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** A new id, e.g. `build-01:4711:9f2c0d1e`. */
export function uniqueId(): string {
  return `${hostname().replace(/[^\w.-]/g, "_")}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/** The errors only @ipc/redis raises; every other error is one of @ipc/core's. */
import { IpcError } from "@ipc/core";

/**
 * Redis could not be reached: a bad URL, a refused or dropped connection, a server that went away
 * for longer than the client retries. `cause` holds the client's own error.
 */
export class RedisConnectionError extends IpcError {
  override readonly code: string = "ERR_IPC_REDIS_CONNECTION";
}
Object.defineProperty(RedisConnectionError.prototype, "name", { value: "RedisConnectionError", writable: true, configurable: true });

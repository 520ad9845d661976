// What the server and its clients share: the manager class, its address and its key. In Python's
// remote-manager example the key is b'abracadabra'; use your own secret (or IPC_AUTHKEY).
import { BaseManager } from "@ipc/manager";

export class QueueManager extends BaseManager {}

export const authkey = process.env.JOBS_AUTHKEY ?? "abracadabra";

/** `{ host, port }` from a `host:port` or a port argument. */
export function addressOf(arg) {
  const [host, port] = arg.includes(":") ? arg.split(":") : ["127.0.0.1", arg];
  return { host, port: Number(port) };
}

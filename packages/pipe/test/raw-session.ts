/** Test helper: a raw socket that writes bytes to a listener, as a peer ignoring the protocol would. */
import { connect as netConnect } from "node:net";
import type { Listener } from "@ipc/pipe";

/** Writes raw bytes to a listener (then ends, with `end`) and resolves when the server closes the socket. */
export function rawSession(address: Listener["address"], bytes: Uint8Array, end = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = netConnect(typeof address === "string" ? { path: address } : address);
    s.on("connect", () => (end ? s.end(bytes) : s.write(bytes)));
    s.on("data", () => {});
    s.on("error", () => resolve());
    s.on("close", () => resolve());
    setTimeout(() => reject(new Error("the server kept a garbage connection open")), 20_000).unref();
  });
}

/**
 * Revives Connection handles. An end sent to a thread of this process, or the end of a pipe in a
 * native block sent to another process, is the same pipe; any other end from another process becomes a local pipe whose other end a relay in this process's broker
 * thread joins to the home of the original (io-tasks.ts `bridge`, relay.ts).
 */
import { ClosedError, currentAuthkey } from "@ipc/core";
import { atomicsBackend, localOwnerId, nativeWordsFrom, runInBroker } from "@ipc/core/internal";
import { Channel, checkMaxMessageSize } from "./channel.js";
import type { Connection } from "./connection.js";
import type { ConnectionState } from "./connection-state.js";
import { IO_TASKS } from "./io-url.js";

/** How the reviver makes a Connection (its static factories, passed in: no import cycle). */
export interface ConnectionFactory {
  adopt(channel: Channel, end: number, from: number): Connection;
  over(channel: Channel, end: number): Connection;
}

/** The reviver of Connection handles, making connections with `make`. */
export const connectionReviver = (make: ConnectionFactory) => (state: ConnectionState): Connection => {
  if (state.sab) return make.adopt(new Channel(state.sab, atomicsBackend), state.end, state.from);
  if (state.native) {
    // the pipe's own memory, mapped here: no relay (native blocks are refused from network peers)
    const words = nativeWordsFrom(state.native);
    return make.adopt(new Channel(words.buffer, words.backend, words), state.end, state.from);
  }
  if (!state.remote) throw new ClosedError("bad Connection handle");
  const sab = Channel.allocate(state.duplex, state.ringSize);
  const channel = new Channel(sab, atomicsBackend);
  const far = 1 - state.end;
  channel.setBridged();
  if (state.peer) channel.setPeer();
  if (state.maxMessage !== undefined) channel.setMaxMessage(checkMaxMessageSize(state.maxMessage));
  channel.hold(state.end);
  channel.hold(far); // in flight to the relay, which takes it over
  const conn = make.over(channel, state.end);
  runInBroker(IO_TASKS, "bridge", [sab, far, localOwnerId, state.remote.address, state.remote.id, state.end, state.from, new Uint8Array(currentAuthkey())]).catch(
    (e: Error) => {
      channel.setError(new ClosedError(`cannot reach the home of this connection: ${e.name}: ${e.message}`));
      channel.closeEnd(far);
    },
  );
  return conn;
};

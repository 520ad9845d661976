/**
 * How a handle describes one end of a pipe: to a thread, the pipe's memory itself; to another
 * process, the native block the pipe lives in (mapped there: the end is used directly), or, for a
 * pipe in a `SharedArrayBuffer`, a reference to the pipe at its home's broker, which the receiver
 * joins with a relay (revive-connection.ts).
 */
import { type HandleContext } from "@ipc/core";
import { exportToBroker, nativeHandleState, type NativeHandleState, type RemoteRef } from "@ipc/core/internal";
import type { Channel } from "./channel.js";
import { channelHomeOf } from "./channel-home.js";

/** The state of a Connection handle. */
export interface ConnectionState {
  end: number;
  /** Owner id of the sender in the pipe's memory, whose in-flight copy the receiver takes over. */
  from: number;
  sab?: SharedArrayBuffer;
  /** The native block of a pipe that lives in one (to a thread or a process). */
  native?: NativeHandleState;
  remote?: RemoteRef;
  duplex: boolean;
  ringSize: number;
  /** Its messages come from a network peer. */
  peer?: boolean;
  /** Its `maxMessageSize`, when it has one. */
  maxMessage?: number;
}

/** Describes end `end` of `channel` for `ctx`, counting the copy in flight on this thread until the receiver counts its own. */
export function connectionState(channel: Channel, end: number, ctx: HandleContext): ConnectionState {
  channel.hold(end);
  const state: ConnectionState = { end, from: channel.owner, duplex: channel.duplex, ringSize: channel.rings[0].capacity };
  if (channel.peer) state.peer = true;
  if (channel.maxMessage !== 0) state.maxMessage = channel.maxMessage;
  if (channel.native) state.native = nativeHandleState(channel.native, ctx.target);
  else if (ctx.target === "thread") state.sab = channel.buffer;
  else state.remote = exportToBroker(channelHomeOf(channel));
  return state;
}

/**
 * ChannelHome: how a pipe is reached from another process. Registered with the home's broker the
 * first time one of its ends is sent to another process; a process that revives the end attaches
 * a socket to it, and the broker thread relays between that socket and the pipe's rings (relay.ts).
 */
import { IpcError } from "@ipc/core";
import { atomicsBackend, checkInt, registerShared, SharedObject, wordsOf, type FramedSocket, type SharedInit } from "@ipc/core/internal";
import { Channel } from "./channel.js";
import { startRelay } from "./relay.js";

/** The broker-side face of a pipe. */
export class ChannelHome extends SharedObject<null> {
  /** Handle type name. */
  static readonly handleType: string = "@ipc/pipe:ChannelHome";
  /** Module that registers the handle type. */
  static readonly handleModule: string = import.meta.url;

  /** The pipe's shared state. */
  readonly channel: Channel;

  constructor(init: SharedInit<null>) {
    super(init);
    if (!this.words) throw new IpcError("a pipe's home is always local to its process");
    this.channel = new Channel(this.words.buffer, atomicsBackend);
  }

  override serve(method: string): Promise<unknown> {
    return Promise.reject(new IpcError(`a pipe has no remote method ${method}: its ends attach as streams`));
  }

  /** A pipe reaches other processes through its relay with or without @ipc/native: no notice. */
  protected override slowerWithoutSharedMemory(): boolean {
    return false;
  }

  /** Both ends are closed for good: no copy is left anywhere, so the broker may forget the pipe. */
  override finished(): boolean {
    return this.channel.isClosed(0) && this.channel.isClosed(1);
  }

  /** A process attaches to end `args[0]`, taking over the in-flight copy of owner `args[1]`. */
  override attach(conn: FramedSocket, args: unknown[]): void {
    const end = checkInt(args[0], "end", 0, 1);
    const from = checkInt(args[1], "from", 0, 0x7fffffff);
    this.channel.takeOver(end, from);
    startRelay(this.channel, end, conn, "home");
  }
}

registerShared<null>(ChannelHome.handleType, (init) => new ChannelHome(init));

const homes = new WeakMap<SharedArrayBuffer, ChannelHome>();

/** The (one per isolate and pipe) object exported to the broker for `channel`. */
export function channelHomeOf(channel: Channel): ChannelHome {
  let home = homes.get(channel.buffer);
  if (!home) {
    home = new ChannelHome({ kind: "local", words: wordsOf(channel.buffer, 0, 4), extra: null });
    homes.set(channel.buffer, home);
  }
  return home;
}

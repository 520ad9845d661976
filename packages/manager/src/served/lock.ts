/**
 * The Lock and RLock a manager serves. A lock remembers which client holds it, and a client that
 * disconnects (it ended, or was killed) lets go of what it held: nothing wedges the server.
 *
 * A Lock may be released by any client, as Python's; an RLock only by its owner, and re-entered by
 * it (the owner is the client: one connection per thread and manager).
 */
import { InvalidStateError } from "@ipc/core";
import { checkTimeout } from "@ipc/core/internal";
import { RELEASE, type CallContext, type HoldsForClients, type Served } from "./call-context.js";
import { waitUntil, Waiters } from "./waiters.js";

/** A Lock (`reentrant: false`) or RLock held by the server. */
export class ManagedLock implements HoldsForClients {
  /** The holding client, 0 when free. */
  #owner = 0;
  #depth = 0;
  readonly #free = new Waiters();

  constructor(readonly reentrant: boolean) {}

  /** Takes the lock for `client` if it can now. */
  #try(client: number): boolean {
    if (this.#owner === 0) {
      this.#owner = client;
      this.#depth = 1;
      return true;
    }
    if (this.reentrant && this.#owner === client) {
      this.#depth++;
      return true;
    }
    return false;
  }

  /** Acquires for `ctx.client`; false after `timeout` ms. */
  async acquire(timeout: number, ctx: CallContext): Promise<boolean> {
    if (this.#try(ctx.client)) return true;
    return waitUntil(() => this.#try(ctx.client), this.#free, timeout, ctx.signal);
  }

  /** Releases one level for `client` (any client for a Lock). @throws InvalidStateError */
  release(client: number): void {
    if (this.#owner === 0) throw new InvalidStateError(this.reentrant ? "cannot release un-acquired lock" : "release unlocked lock");
    if (this.reentrant && this.#owner !== client) throw new InvalidStateError("cannot release un-acquired lock");
    if (--this.#depth > 0) return;
    this.#owner = 0;
    this.#free.wakeOne();
  }

  /** Releases every level `client` holds; the depth it held (0: none). */
  releaseAll(client: number): number {
    if (this.#owner !== client || client === 0) return 0;
    const depth = this.#depth;
    this.#depth = 0;
    this.#owner = 0;
    this.#free.wakeOne();
    return depth;
  }

  /**
   * Takes the lock back at `depth` for `ctx.client` (the end of Condition.wait, even a cancelled
   * one: the caller holds the lock again when its wait ends, as in Python). Only the client's
   * disconnection stops it.
   */
  async restore(depth: number, ctx: CallContext): Promise<void> {
    await waitUntil(() => this.#try(ctx.client), this.#free, Infinity, ctx.closed);
    this.#depth = depth;
  }

  /** True while held. */
  locked(): boolean {
    return this.#owner !== 0;
  }

  /** True while `client` holds it. */
  ownedBy(client: number): boolean {
    return this.#owner === client;
  }

  /** Methods a lock proxy may call. */
  static readonly exposed: Served<ManagedLock> = {
    acquire: (l, args, ctx) => l.acquire(args[0] === false ? 0 : checkTimeout(args[1]), ctx),
    release: (l, _args, ctx) => l.release(ctx.client),
    locked: (l) => l.locked(),
  };

  [RELEASE](client: number): void {
    this.releaseAll(client);
  }
}

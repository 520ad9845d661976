/** The Event a manager serves (Python's `threading.Event` behind `SyncManager.Event()`). */
import { InvalidStateError } from "@ipc/core";
import { checkTimeout } from "@ipc/core/internal";
import { CALL, type CallContext, type ContextualObject } from "./call-context.js";
import { waitUntil, Waiters } from "./waiters.js";

/** Methods an event proxy may call. */
export const EVENT_EXPOSED = ["set", "clear", "isSet", "wait"] as const;

/** A flag held by the server that callers can wait for. */
export class ManagedEvent implements ContextualObject {
  #flag = false;
  readonly #waiters = new Waiters();

  [CALL](method: string, args: unknown[], ctx: CallContext): unknown {
    switch (method) {
      case "set":
        this.#flag = true;
        this.#waiters.wakeAll();
        return undefined;
      case "clear":
        this.#flag = false;
        return undefined;
      case "isSet":
        return this.#flag;
      case "wait":
        return waitUntil(() => this.#flag, this.#waiters, checkTimeout(args[0]), ctx.signal);
      default:
        throw new InvalidStateError(`Event has no method ${method}`);
    }
  }
}

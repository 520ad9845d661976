/** The Event a manager serves (Python's `threading.Event` behind `SyncManager.Event()`). */
import { checkTimeout } from "@ipc/core/internal";
import type { Served } from "./call-context.js";
import { waitUntil, Waiters } from "./waiters.js";

/** A flag held by the server that callers can wait for. */
export class ManagedEvent {
  #flag = false;
  readonly #waiters = new Waiters();

  /** Methods an event proxy may call. */
  static readonly exposed: Served<ManagedEvent> = {
    set: (e) => {
      e.#flag = true;
      e.#waiters.wakeAll();
    },
    clear: (e) => {
      e.#flag = false;
    },
    isSet: (e) => e.#flag,
    wait: (e, args, ctx) => waitUntil(() => e.#flag, e.#waiters, checkTimeout(args[0]), ctx.signal),
  };
}

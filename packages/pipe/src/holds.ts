/**
 * The copies of pipe ends this isolate holds: released by `close()`, when a Connection is
 * garbage-collected (as Python closes a collected connection), and when the thread or process
 * exits, so that the other end reads EOF as it does when a Python process exits. The exiting
 * isolate then gives its broker thread a moment to hand what it relays to the operating system.
 */
import { brokerAddress, runInBrokerSync } from "@ipc/core/internal";
import type { Channel } from "./channel.js";
import { IO_TASKS } from "./io-url.js";

/** One counted copy of a pipe end. */
export interface Hold {
  channel: Channel;
  end: number;
}

const open = new Set<Hold>();
const collected = new FinalizationRegistry<Hold>((h) => {
  if (open.delete(h)) h.channel.release(h.end);
});
let hooked = false;

/** How long an exiting process waits for its relays to flush (ms). */
const EXIT_FLUSH_MS = 2000;

function atExit(): void {
  for (const h of open) {
    try {
      h.channel.release(h.end);
    } catch {
      // exiting anyway
    }
  }
  open.clear();
  // a thread's broker thread ends with it: let it flush too
  if (brokerAddress() !== undefined) {
    try {
      runInBrokerSync(IO_TASKS, "settleRelays", [EXIT_FLUSH_MS]);
    } catch {
      // nothing to flush
    }
  }
}

/** Tracks the copy `owner` (a Connection) holds. */
export function trackHold(owner: object, channel: Channel, end: number): Hold {
  const h: Hold = { channel, end };
  open.add(h);
  collected.register(owner, h, h);
  if (!hooked) {
    hooked = true;
    process.once("exit", atExit);
  }
  return h;
}

/** Stops tracking a copy (its owner releases it). */
export function untrackHold(h: Hold): void {
  open.delete(h);
  collected.unregister(h);
}

/**
 * Entry of a `'process'` child (forked). The payload arrives as the first IPC message; the IPC
 * channel then stays open, unref'd, only to notice the parent's death: when it closes, the child
 * exits. A busy or blocked child is ended by parent-watch.ts (no orphans).
 */
import { runChild } from "./bootstrap.js";
import { watchParent } from "./parent-watch.js";
import type { StartPayload } from "./payload.js";

watchParent();
process.on("disconnect", () => process.exit(process.exitCode ?? 1));
process.once("message", (payload: StartPayload) => {
  process.channel?.unref();
  void runChild(payload).then((code) => process.exit(code));
});

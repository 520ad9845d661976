/**
 * The child side of `Process.start()`, shared by both contexts: record the identity, import the
 * module, revive the arguments (handles become working objects), run the target or `run()`, and
 * report how it ended. An uncaught error prints `Process <name>:` and its stack to stderr (as
 * Python prints the traceback) and gives exit code 1.
 */
import { threadId } from "node:worker_threads";
import { addHandleResolutionBase, allowHandleModule, deserialize, installLivenessTable, loadHandleModules, loadModule, moduleUrl, nativeWatchThreadEnd, pendingWritesDone } from "@ipc/core/slim";
import { endChildren } from "./children.js";
import { setIdentity } from "./identity.js";
import type { StartPayload } from "./payload.js";
import { PROCESS_STATE } from "./state.js";


/** Runs the payload; resolves with the exit code the child should end with. */
export async function runChild(payload: StartPayload): Promise<number> {
  const self = payload.identity.self;
  self.pid = process.pid;
  self.ident = self.context === "thread" ? `${process.pid}.t${threadId}` : String(process.pid);
  setIdentity(payload.identity);
  if (payload.liveness) {
    installLivenessTable(payload.liveness);
    // a parent blocked in a wait hears of this thread's end only from here (core's native-memory.ts)
    if (payload.native) nativeWatchThreadEnd(payload.liveness);
  }
  const name = payload.identity.self.name;
  try {
    if (payload.kind === "none") return 0;
    // the handle types' modules load alongside the target's (one module graph walk, not two in a row)
    const handles = loadHandleModules(payload.handleModules);
    handles.catch(() => {}); // reported below, after the target's own errors
    const mod = await loadModule(payload.module);
    const exported = mod[payload.exportName];
    if (typeof exported !== "function") {
      throw new TypeError(`${payload.module} has no exported function or class named "${payload.exportName}"`);
    }
    // the parent is trusted (as in Python): the modules it named may register handle types here,
    // and @ipc's own packages are resolved from the target's dependencies. The modules of handle
    // types the target did not import are imported now, so that deserialize need not require() them
    const url = moduleUrl(payload.module);
    allowHandleModule(url);
    addHandleResolutionBase(url);
    await handles;
    if (payload.kind === "target") {
      const { args, kwargs } = deserialize<{ args: unknown[]; kwargs?: Record<string, unknown> }>(payload.bytes, { shared: payload.shared });
      await (exported as (...a: unknown[]) => unknown)(...args, ...(kwargs ? [kwargs] : []));
    } else {
      const fields = deserialize<Record<string, unknown>>(payload.bytes, { shared: payload.shared });
      const self = Object.create((exported as { prototype: object }).prototype) as Record<string | symbol, unknown>;
      Object.assign(self, fields);
      Object.defineProperty(self, PROCESS_STATE, { value: { self: payload.identity.self }, enumerable: false });
      await (self.run as () => unknown)();
    }
    // large items this child put that are still streaming into their queues (Python joins the feeder)
    await pendingWritesDone();
    await endChildren();
    return 0;
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    process.stderr.write(`Process ${name}:\n${text}\n`);
    await endChildren();
    return 1;
  }
}

/**
 * The live children of this isolate: `activeChildren()`, and what happens to them when it ends.
 * The set is isolate state (core's isolate-state.ts) so that every copy of this package in the
 * isolate (the child bootstrap's and the user's) sees the same children.
 */
import { isolateState } from "@ipc/core/slim";
import type { Process } from "./process.js";

const live = isolateState("@ipc/process:children", () => new Set<Process>());

/** @internal */
export function trackChild(p: Process): void {
  live.add(p);
}

/** @internal */
export function untrackChild(p: Process): void {
  live.delete(p);
}

/** The children of this process that are still running (started and not yet ended). */
export function activeChildren(): Process[] {
  return [...live];
}

/**
 * What a child does when its target returns, as Python's `_exit_function`: terminate the daemon
 * children, then wait for the others.
 */
export async function endChildren(): Promise<void> {
  for (const p of live) if (p.daemon) p.terminate();
  await Promise.all([...live].map((p) => p.join()));
}

// At exit (the event loop ran dry, process.exit(), or a thread child finishing), children in the
// process context that are still running are ended: no orphans. Thread children die with the
// process anyway.
process.once("exit", () => {
  for (const p of live) {
    if (p.context === "process") {
      try {
        p.terminate();
      } catch {
        // already gone
      }
    }
  }
});

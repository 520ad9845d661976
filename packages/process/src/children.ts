/** The live children of this isolate: `activeChildren()`, and ending daemon children at exit. */
import type { Process } from "./process.js";

const live = new Set<Process>();

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

// Children in the process context die with their parent (no orphans): at the parent's exit only
// daemon children can still be running (non-daemon ones kept the event loop alive), unless the
// parent called process.exit() or is a thread being terminated. Thread children die with the
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

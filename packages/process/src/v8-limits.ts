/**
 * `resourceLimits` for a `'process'` child: a worker thread takes them as Worker options; a child
 * process gets the same limits as V8 flags.
 */
import type { ResourceLimits } from "node:worker_threads";

/** The V8 flags that give a child process the heap and stack limits a Worker would get. */
export function v8Limits(limits: ResourceLimits | undefined): string[] {
  if (!limits) return [];
  const flags: string[] = [];
  const { maxOldGenerationSizeMb: old, maxYoungGenerationSizeMb: young, stackSizeMb: stack } = limits;
  if (old !== undefined) flags.push(`--max-old-space-size=${Math.max(1, Math.round(old))}`);
  // V8's young generation is three semi-spaces (two for the scavenger, one for new large objects)
  if (young !== undefined) flags.push(`--max-semi-space-size=${Math.max(1, Math.round(young / 3))}`);
  // V8 takes the stack size in KiB; a child's main thread has the OS default stack (8 MiB on
  // Linux), which V8 must stay below
  if (stack !== undefined) flags.push(`--stack-size=${Math.max(64, Math.min(Math.round(stack * 1024), 7 * 1024))}`);
  return flags;
}

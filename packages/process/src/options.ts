import type { ResourceLimits } from "node:worker_threads";

/** Where a child runs: a worker thread (shares memory) or a child process (isolated). */
export type Context = "thread" | "process";

/** A target: the name of an export of `module`, or an exported function (found by its name). */
export type Target = string | ((...args: any[]) => unknown);

/** Options of {@link Process}. */
export interface ProcessOptions {
  /** File URL or path of the module that exports `target` (or the subclass). */
  module?: string | URL;
  /** What to run in the child. */
  target?: Target;
  /** Positional arguments; handles (locks, queues, ...) are revived in the child. */
  args?: unknown[];
  /** Passed as a last argument object when given. */
  kwargs?: Record<string, unknown>;
  /** Default `Process-N`. */
  name?: string;
  /** Ended when the parent exits; default: the current process's daemon flag (false at top level). */
  daemon?: boolean;
  /** Default `'thread'`. */
  context?: Context;
  /** Environment of the child (process context; thread context: its `process.env`). */
  env?: Record<string, string>;
  /** Node options for the child. */
  execArgv?: string[];
  /**
   * Heap and stack limits of the child: a thread child's Worker limits, and the same limits as V8
   * flags (`--max-old-space-size`, `--max-semi-space-size`, `--stack-size`) for a process child.
   */
  resourceLimits?: ResourceLimits;
  /**
   * @internal Start a thread child from the CommonJS build of the bootstrap (a few ms faster to
   * load in a fresh worker than ESM). Only for targets in CommonJS modules that use the CommonJS
   * build of @ipc/core (the pool's worker): an ESM target would load a second copy of core.
   */
  commonjsBootstrap?: boolean;
}

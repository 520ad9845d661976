/**
 * Process: run a function or a subclass's `run()` in a worker thread or a child process, with
 * Python's `multiprocessing.Process` API.
 */
import { fork, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";
import { isMainThread, Worker } from "node:worker_threads";
import { ClosedError, InvalidStateError, nativeAvailable } from "@ipc/core";
import { abortReason, checkSignal, childExecArgv, createWorker, entryUrl, isTypeScript, livenessTable, markThreadEnded, serializeAt, trackerEnv, trackerStdio, waitable, type Waitable } from "@ipc/core/internal";
import { trackChild, untrackChild } from "./children.js";
import { currentProcess, type ProcessInfo } from "./identity.js";
import type { Context, ProcessOptions } from "./options.js";
import type { StartPayload } from "./payload.js";
import { resolutionHints } from "./resolution-hints.js";
import { PROCESS_STATE } from "./state.js";
import { PARENT_MAIN_ENV, PARENT_PID_ENV } from "./parent-watch.js";
import { v8Limits } from "./v8-limits.js";

type Phase = "initial" | "started" | "closed";

interface ParentState {
  opts: ProcessOptions;
  phase: Phase;
  name: string;
  daemon: boolean;
  context: Context;
  path: number[];
  worker?: Worker;
  child?: ChildProcess;
  pid?: number;
  ident?: string;
  exitCode: number | null;
  signalled?: number;
  exited?: Promise<void>;
  /** Callers waiting in join(). */
  joiners?: number;
}

interface ChildState {
  self: ProcessInfo;
}

let counter = 0;
const SIGTERM = constants.signals.SIGTERM;
const SIGKILL = constants.signals.SIGKILL;

function nameFor(path: number[]): string {
  return `Process-${path.join(":")}`;
}

function toModule(module: string | URL | undefined): string | undefined {
  if (module === undefined) return undefined;
  return module instanceof URL ? module.href : module;
}

/**
 * A child that runs `target(...args, kwargs?)` exported by `module`, or, in a subclass, `run()`.
 *
 * @example
 * const p = new Process({ module: import.meta.url, target: "work", args: [queue, 42] });
 * p.start();
 * await p.join();
 * p.exitCode; // 0
 */
export class Process {
  declare private [PROCESS_STATE]: ParentState | ChildState;

  constructor(opts: ProcessOptions = {}) {
    if (typeof opts !== "object" || opts === null) throw new TypeError("Expected `opts` to be an object");
    if (opts.context !== undefined && opts.context !== "thread" && opts.context !== "process") {
      throw new TypeError(`Expected \`context\` to be "thread" or "process", got ${JSON.stringify(opts.context)}`);
    }
    if (opts.target !== undefined && typeof opts.target !== "string" && typeof opts.target !== "function") {
      throw new TypeError("Expected `target` to be an export name or an exported function");
    }
    if (opts.target !== undefined && opts.module === undefined) throw new TypeError("`module` is required with `target`");
    if (opts.args !== undefined && !Array.isArray(opts.args)) throw new TypeError("Expected `args` to be an array");
    const path = [...currentProcess().path, ++counter];
    Object.defineProperty(this, PROCESS_STATE, {
      value: {
        opts,
        phase: "initial",
        name: opts.name ?? nameFor(path),
        daemon: opts.daemon ?? currentProcess().daemon,
        context: opts.context ?? "thread",
        path,
        exitCode: null,
      } satisfies ParentState,
      enumerable: false,
    });
  }

  private get parent(): ParentState {
    const s = this[PROCESS_STATE];
    if (!s || "self" in s) throw new InvalidStateError("this method is only available in the parent process");
    return s;
  }

  /** The child's body. Override in a subclass (exported from `module`); by default calls the target. */
  run(): unknown {
    return undefined;
  }

  /** The name, `Process-N` by default. */
  get name(): string {
    const s = this[PROCESS_STATE];
    return "self" in s ? s.self.name : s.name;
  }

  /** Whether the child is ended when its parent exits. */
  get daemon(): boolean {
    const s = this[PROCESS_STATE];
    return "self" in s ? s.self.daemon : s.daemon;
  }

  /** Set before `start()` only. */
  set daemon(value: boolean) {
    const s = this.parent;
    if (s.phase !== "initial") throw new InvalidStateError("process has already started");
    s.daemon = Boolean(value);
  }

  /** `'thread'` or `'process'`. */
  get context(): Context {
    const s = this[PROCESS_STATE];
    return "self" in s ? (s.self.context as Context) : s.context;
  }

  /** OS process id (for a thread child, the pid of the process it runs in); undefined before start. */
  get pid(): number | undefined {
    const s = this[PROCESS_STATE];
    return "self" in s ? s.self.pid : s.pid;
  }

  /** Unique id across processes and threads: `"<pid>"` for a process, `"<pid>.t<threadId>"` for a thread. */
  get ident(): string | undefined {
    const s = this[PROCESS_STATE];
    return "self" in s ? s.self.ident : s.ident;
  }

  /**
   * null while running (or before start); 0 on success; 1 after an uncaught error; n after the
   * child's own `process.exit(n)`; -15 / -9 after `terminate()` / `kill()` (both contexts: a
   * terminated worker thread reports the signal it stands for, though no signal is sent).
   */
  get exitCode(): number | null {
    return this.parent.exitCode;
  }

  /** Starts the child. @throws InvalidStateError when started twice, ClosedError after `close()`. */
  start(): void {
    const s = this.parent;
    if (s.phase === "closed") throw new ClosedError("process object is closed");
    if (s.phase !== "initial") throw new InvalidStateError("cannot start a process twice");
    const payload = this.payload(s);
    s.phase = "started";
    // as Python's start(): the child has its own copy; what the arguments hold (a queue, a large
    // buffer) is not kept alive by this object
    s.opts = { ...s.opts, args: undefined, kwargs: undefined };
    if (s.context === "thread") this.startThread(s, payload);
    else this.startProcess(s, payload);
    trackChild(this);
  }

  private payload(s: ParentState): StartPayload {
    const me = currentProcess();
    const subclass = Object.getPrototypeOf(this) !== Process.prototype && this.run !== Process.prototype.run;
    const module = toModule(s.opts.module);
    const shared: SharedArrayBuffer[] = [];
    const handleModules = new Map<string, string>();
    const target = s.context === "thread" ? "thread" : "process";
    const base = {
      identity: {
        self: { name: s.name, ident: "", pid: 0, daemon: s.daemon, context: s.context, path: s.path },
        parent: me,
      },
      shared,
      handleModules: [] as [string, string][],
    };
    if (subclass) {
      if (!module) throw new TypeError("a Process subclass must pass `module` (its own import.meta.url) to super()");
      const fields: Record<string, unknown> = { ...(this as object) };
      const bytes = serializeAt(fields, "this", { target, shared, handleModules });
      return { ...base, module, kind: "subclass", exportName: this.constructor.name, bytes, handleModules: [...handleModules] };
    }
    const t = s.opts.target;
    if (t === undefined) return { ...base, module: module ?? "", kind: "none", exportName: "", bytes: new Uint8Array(0) };
    const exportName = typeof t === "string" ? t : t.name;
    if (!exportName) throw new TypeError("a target function must be a named export of `module`");
    const bytes = serializeAt({ args: s.opts.args ?? [], kwargs: s.opts.kwargs }, "process", { target, shared, handleModules });
    return { ...base, module: module!, kind: "target", exportName, bytes, handleModules: [...handleModules] };
  }

  private startThread(s: ParentState, payload: StartPayload): void {
    const esm = entryUrl("thread-child", import.meta.url);
    const commonjs = s.opts.commonjsBootstrap === true && !isTypeScript(esm);
    const entry = commonjs ? new URL("./thread-child.cjs", esm) : esm;
    // CommonJS children are told where @ipc/core/slim is (resolution-hints.ts)
    const resolution = commonjs && payload.module.startsWith("file:") ? resolutionHints([entry, new URL(payload.module)]) : undefined;
    const worker = createWorker(entry, {
      workerData: { ...payload, liveness: livenessTable(), native: nativeAvailable(), resolution },
      env: s.opts.env ? { ...process.env, ...s.opts.env } : undefined,
      execArgv: s.opts.execArgv,
      resourceLimits: s.opts.resourceLimits,
      name: s.name,
    });
    s.worker = worker;
    s.pid = process.pid;
    s.ident = `${process.pid}.t${worker.threadId}`;
    if (s.daemon) worker.unref();
    worker.on("error", (e) => {
      process.stderr.write(`Process ${s.name}:\n${e instanceof Error ? e.stack : String(e)}\n`);
    });
    s.exited = new Promise((resolve) => {
      const threadId = worker.threadId;
      worker.once("exit", (code) => {
        // locks it may have held can now be taken over (robust locks)
        markThreadEnded(threadId);
        s.exitCode = s.signalled !== undefined ? -s.signalled : code;
        untrackChild(this);
        resolve();
      });
    });
  }

  private startProcess(s: ParentState, payload: StartPayload): void {
    const entry = entryUrl("process-child", import.meta.url);
    const execArgv = [...(s.opts.execArgv ?? childExecArgv())];
    if (isTypeScript(entry) || isTypeScript(payload.module)) {
      if (!execArgv.some((a, i) => a === "--import" && execArgv[i + 1] === "tsx")) execArgv.push("--import", "tsx");
    }
    const child = fork(fileURLToPath(entry), [], {
      serialization: "advanced",
      // the child ends with this process (parent-watch.ts)
      env: { ...process.env, ...s.opts.env, ...trackerEnv(), [PARENT_PID_ENV]: String(process.pid), [PARENT_MAIN_ENV]: isMainThread ? "1" : "0" },
      execArgv: [...execArgv, ...v8Limits(s.opts.resourceLimits)],
      // fd 4: the tree's SharedMemory tracker, when one runs (segment-tracker.ts in core)
      stdio: ["inherit", "inherit", "inherit", "ipc", ...trackerStdio()],
    });
    s.child = child;
    s.pid = child.pid;
    s.ident = String(child.pid);
    s.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        s.exitCode = code ?? (signal ? -constants.signals[signal] : 1);
        untrackChild(this);
        resolve();
      });
    });
    child.on("error", (e) => {
      if (s.exitCode === null && child.exitCode === null && child.pid === undefined) {
        process.stderr.write(`Process ${s.name}: cannot start: ${e.message}\n`);
      }
    });
    child.send(payload, (e) => {
      if (e && s.exitCode === null) child.kill("SIGKILL");
    });
    child.channel?.unref();
    if (s.daemon) child.unref();
  }

  /**
   * Waits until the child ends, or `timeout` ms pass (it then returns with the child still alive,
   * as Python's `join(timeout)` does). `signal` stops the wait (rejecting with its reason; the
   * child runs on). @throws InvalidStateError before start, ClosedError after `close()`.
   */
  async join(opts: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
    const s = this.parent;
    const signal = checkSignal(opts.signal);
    if (s.phase === "closed") throw new ClosedError("process object is closed");
    if (s.phase === "initial") throw new InvalidStateError("can only join a started process");
    if (s.exitCode !== null) return;
    if (signal?.aborted) throw abortReason(signal);
    const timeout = opts.timeout;
    if (timeout !== undefined && (typeof timeout !== "number" || Number.isNaN(timeout))) {
      throw new TypeError("Expected `timeout` to be a number of milliseconds");
    }
    if (timeout !== undefined && timeout <= 0) return;
    // a daemon child does not keep the event loop alive, but someone waiting for it does
    this.holdLoop(s, +1);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const waits: Promise<void>[] = [s.exited!];
      if (timeout !== undefined && timeout !== Infinity) waits.push(new Promise<void>((r) => (timer = setTimeout(r, timeout))));
      if (signal) {
        waits.push(
          new Promise<void>((_, reject) => {
            onAbort = () => reject(abortReason(signal));
            signal.addEventListener("abort", onAbort, { once: true });
          }),
        );
      }
      await (waits.length === 1 ? waits[0] : Promise.race(waits));
    } finally {
      clearTimeout(timer);
      if (onAbort) signal!.removeEventListener("abort", onAbort);
      this.holdLoop(s, -1);
    }
  }

  private holdLoop(s: ParentState, delta: number): void {
    s.joiners = (s.joiners ?? 0) + delta;
    if (!s.daemon || s.exitCode !== null) return;
    const handle = s.worker ?? s.child;
    if (s.joiners > 0) handle?.ref();
    else handle?.unref();
  }

  /**
   * Ready when the child ends: give it to @ipc/pipe's `wait()` together with connections
   * (Python's `sentinel`). @throws InvalidStateError before `start()`.
   */
  get sentinel(): Waitable {
    const s = this.parent;
    if (s.phase === "initial") throw new InvalidStateError("a process has a sentinel once started");
    return {
      [waitable]: {
        ready: () => s.exitCode !== null,
        whenReady: () => s.exited ?? Promise.resolve(),
      },
    };
  }

  /** True from `start()` until the child ends. */
  isAlive(): boolean {
    const s = this[PROCESS_STATE];
    if ("self" in s) return true;
    if (s.phase === "closed") throw new ClosedError("process object is closed");
    return s.phase === "started" && s.exitCode === null;
  }

  /** Ends the child: SIGTERM for a process, `worker.terminate()` for a thread (exitCode -15). */
  terminate(): void {
    this.signal(SIGTERM, "SIGTERM");
  }

  /** Ends the child at once: SIGKILL for a process, `worker.terminate()` for a thread (exitCode -9). */
  kill(): void {
    this.signal(SIGKILL, "SIGKILL");
  }

  private signal(num: number, name: NodeJS.Signals): void {
    const s = this.parent;
    if (s.phase === "closed") throw new ClosedError("process object is closed");
    if (s.phase !== "started" || s.exitCode !== null) return;
    if (s.worker) {
      s.signalled ??= num;
      void s.worker.terminate();
    } else s.child?.kill(name);
  }

  /** Releases the child's resources. @throws InvalidStateError while it is still running. */
  close(): void {
    const s = this.parent;
    if (s.phase === "closed") return;
    if (s.phase === "started" && s.exitCode === null) {
      throw new InvalidStateError("Cannot close a process while it is still running. You should first call join() or terminate().");
    }
    s.worker = undefined;
    s.child = undefined;
    s.phase = "closed";
  }

  /** Lets a parent-side `await using` end a forgotten child. */
  async [Symbol.asyncDispose](): Promise<void> {
    const s = this.parent;
    if (s.phase === "started" && s.exitCode === null) {
      this.terminate();
      await s.exited;
    }
  }

  toString(): string {
    const s = this[PROCESS_STATE];
    if ("self" in s) return `<${this.constructor.name} name='${s.self.name}' child>`;
    const status = s.phase === "initial" ? "initial" : s.phase === "closed" ? "closed" : s.exitCode === null ? "started" : `stopped exitcode=${s.exitCode}`;
    return `<${this.constructor.name} name='${s.name}' ${status}${s.daemon ? " daemon" : ""}>`;
  }
}

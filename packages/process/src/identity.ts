/**
 * Who this isolate is: `currentProcess()`, `parentProcess()`, `isMainProcess`. A child's bootstrap
 * records its identity as isolate state (core's isolate-state.ts) before it imports user code,
 * so every copy of this package in the child (ESM or CJS build) agrees.
 */
import { threadId } from "node:worker_threads";
import { peekIsolateState, setIsolateState } from "@ipc/core/slim";
import type { Context } from "./options.js";

/** A description of a process: the current one, or a parent. */
export interface ProcessInfo {
  name: string;
  ident: string;
  pid: number;
  daemon: boolean;
  context: Context | "main";
  /** Position in the process tree, as Python's `_identity`: [] at top level, [1, 2] for Process-1:2. */
  path: number[];
}

/** The identity of a child, as its bootstrap records it. */
export interface ChildIdentity {
  self: ProcessInfo;
  parent: ProcessInfo;
}

const KEY = "@ipc/process:identity";

/** Records the identity of a starting child (bootstrap only). */
export function setIdentity(identity: ChildIdentity): void {
  setIsolateState(KEY, identity);
}

function identity(): ChildIdentity | undefined {
  return peekIsolateState<ChildIdentity>(KEY);
}

const main: ProcessInfo = { name: "MainProcess", ident: String(process.pid), pid: process.pid, daemon: false, context: "main", path: [] };

/** The process (thread or OS process started by @ipc) this code runs in; `MainProcess` at top level. */
export function currentProcess(): ProcessInfo {
  const id = identity();
  if (id) return { ...id.self };
  if (threadId !== 0) return { ...main, name: `Thread-${threadId}`, ident: `${process.pid}.t${threadId}` };
  return { ...main };
}

/** The process that started this one, or null at top level. */
export function parentProcess(): Pick<ProcessInfo, "name" | "ident" | "pid"> | null {
  const id = identity();
  if (!id) return null;
  return { name: id.parent.name, ident: id.parent.ident, pid: id.parent.pid };
}

/** True outside any child started by @ipc: the `if __name__ == '__main__'` guard. */
export const isMainProcess: boolean = identity() === undefined;

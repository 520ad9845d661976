/** The `lock` option of Value, SharedArray and SharedStruct, as Python's `lock=` argument. */
import { InvalidStateError, Lock, RLock } from "@ipc/core";

/** `true` or omitted: a new RLock (Python's default); `false`: none; or the Lock/RLock to use. */
export type LockOption = boolean | Lock | RLock;

/** The lock the option asks for. @throws TypeError for anything else (Python: AttributeError). */
export function lockFor(option: unknown): Lock | RLock | null {
  if (option === undefined || option === true) return new RLock();
  if (option === false) return null;
  if (option instanceof Lock || option instanceof RLock) return option;
  throw new TypeError(`Expected \`lock\` to be a boolean, a Lock or an RLock, got ${option === null ? "null" : typeof option}`);
}

/** What getLock() answers for an object made with `lock: false`. */
export function noLock(what: string): never {
  throw new InvalidStateError(`this ${what} has no lock (it was made with lock: false)`);
}

import { currentProcess, parentProcess, Process } from "@ipc/process";
export function hello(lock, n, kw) {
  console.log("hello", currentProcess().name, n, JSON.stringify(kw), parentProcess()?.name, lock.locked());
}
export async function locker(lock, ev) {
  await lock.acquire();
  ev.set();
  console.log("child acquired");
  lock.release();
}
export function boom() { throw new Error("boom here"); }
export function exits(n) { process.exit(n); }

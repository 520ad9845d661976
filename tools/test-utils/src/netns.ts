/**
 * Two "machines" on one host for tests: network namespaces `a` and `b` joined by a veth pair,
 * `a` at `<subnet>.1`, `b` at `<subnet>.2`. Needs root and `ip netns`; where that is not allowed,
 * `twoMachines` returns false and leaves nothing behind.
 */
import { spawnSync } from "node:child_process";

/** Creates the namespaces; false (and nothing left) where it is not allowed. */
export function twoMachines(a: string, b: string, subnet: string): boolean {
  const ip = (...args: string[]) => spawnSync("ip", args, { stdio: "ignore" }).status === 0;
  const [va, vb] = [`${a}v`, `${b}v`];
  const ok =
    process.platform === "linux" &&
    ip("netns", "add", a) &&
    ip("netns", "add", b) &&
    ip("link", "add", va, "type", "veth", "peer", "name", vb) &&
    ip("link", "set", va, "netns", a) &&
    ip("link", "set", vb, "netns", b) &&
    ip("-n", a, "addr", "add", `${subnet}.1/24`, "dev", va) &&
    ip("-n", b, "addr", "add", `${subnet}.2/24`, "dev", vb) &&
    ip("-n", a, "link", "set", va, "up") &&
    ip("-n", b, "link", "set", vb, "up") &&
    ip("-n", a, "link", "set", "lo", "up");
  if (!ok) dropMachines(a, b);
  return ok;
}

/** Removes the namespaces (their veth pair goes with them). */
export function dropMachines(...names: string[]): void {
  for (const n of names) spawnSync("ip", ["netns", "del", n], { stdio: "ignore" });
}

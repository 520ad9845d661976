// What @ipc shared memory this process holds (for fixtures run with plain node: no TypeScript).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** The @ipc/native memfds this process has open, and the MiB of them it maps. */
export function nativeMemory() {
  let fds = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith("/memfd:ipc-native")) fds++;
    } catch {
      // closed meanwhile
    }
  }
  let bytes = 0;
  for (const line of readFileSync("/proc/self/maps", "latin1").split("\n")) {
    if (!line.includes("/memfd:ipc-native")) continue;
    const [from, to] = line.split(" ")[0].split("-").map((h) => parseInt(h, 16));
    bytes += to - from;
  }
  return { fds, mib: Math.round(bytes / 2 ** 20) };
}

/**
 * {@link nativeMemory} once this process has let go of what it held above `before` (at most 2
 * descriptors more), collecting garbage meanwhile (run node with --expose-gc), or after `ms` as it
 * is then: handles on their way are checked every second, and collection unmaps the rest.
 */
export async function nativeMemoryReleased(before, ms = 20_000) {
  const deadline = Date.now() + ms;
  let now = nativeMemory();
  while (now.fds > before.fds + 2 && Date.now() < deadline) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 100));
    now = nativeMemory();
  }
  return now;
}

/**
 * The @ipc/native memfds this process has open, found by descriptor number (0-1023): works when
 * no descriptor is left to list /proc/self/fd with.
 */
export function nativeFdsByNumber() {
  let n = 0;
  for (let fd = 0; fd < 1024; fd++) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith("/memfd:ipc-native")) n++;
    } catch {
      // not open
    }
  }
  return n;
}


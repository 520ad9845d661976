/**
 * Memory for large received values: an item assembled from several ring frames, a decoded typed
 * array too large to share a slab, a message copied out of shared memory.
 *
 * Each such value needs bytes of its own, and fresh memory is what makes large messages slow:
 * every first touch of a 4 KiB page faults (measured ~10 µs per page in the VMs here, so ~2.5 ms
 * per MiB, ten times the copy itself). From {@link LARGE_MIN} up, when the optional @ipc/native
 * addon is loaded, buffers come from its 2 MiB huge-page regions, which also keeps a few freed
 * regions for reuse; otherwise from `Buffer.allocUnsafeSlow` (malloc, not zero-filled).
 */
import { nativeAllocUnsafe } from "./native-memory.js";

/** Values from this size up use the addon's huge-page regions. */
const LARGE_MIN = 256 * 1024;
/** From this size up a buffer skips zero-filling (every byte is written by the caller). */
const UNZEROED_MIN = 65536;

/**
 * A `Uint8Array` over an own, exact-size, *uninitialized* `ArrayBuffer` of `n` bytes (zeroed
 * below 64 KiB). The caller writes every byte before the array reaches user code.
 */
export function allocLarge(n: number): Uint8Array {
  if (n >= LARGE_MIN) {
    const buffer = nativeAllocUnsafe(n);
    if (buffer !== undefined) {
      sinceNudge += n;
      if (sinceNudge >= NUDGE_BYTES) {
        sinceNudge = 0;
        nudgeYoungCollection();
      }
      return new Uint8Array(buffer);
    }
  }
  return n >= UNZEROED_MIN ? new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n) : new Uint8Array(n);
}

/** Addon bytes handed out between two nudges (see {@link nudgeYoungCollection}). */
const NUDGE_BYTES = 16 * 1024 * 1024;
let sinceNudge = 0;

/**
 * Lets V8 free received buffers with its cheap young-generation collection. V8 looks at the bytes
 * held by young ArrayBuffers when it allocates a backing store itself: past twice the young
 * generation's size (32 MiB) it first runs a scavenge, which frees the buffers a receiver has
 * dropped. A buffer from the addon is made outside that path, so a stream of them otherwise
 * reaches V8's external-memory limit instead, which starts a full mark-compact every ~64 MiB (a
 * 1 MiB queue between threads: 31-61 of them a second, their marking threads a quarter of the
 * CPU). Allocating a one-byte ArrayBuffer runs that check. Once per 16 MiB handed out, not per
 * buffer: while V8 has not yet swept what a scavenge freed, the bytes still count, and a check
 * per buffer ran a scavenge per buffer (~0.2 ms each, 1 MiB items then ran at half speed).
 */
function nudgeYoungCollection(): void {
  // kept, so that no compiler drops the allocation as unused
  nudged.last = new ArrayBuffer(1);
}
const nudged: { last?: ArrayBuffer } = {};

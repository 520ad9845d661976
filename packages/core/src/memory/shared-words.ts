/**
 * Where a primitive's control words live: a `SharedArrayBuffer` (threads of one process), or,
 * where `@ipc/native` is loaded, a native mapping that other processes map too
 * (native-memory.ts), each with the backend that sleeps on its words.
 */
import { allocateNativeSmall } from "./native-memory.js";
import { atomicsBackend, type WaitBackend } from "./wait-backend.js";

/** A block of 32-bit control words plus the backend that sleeps on them. */
export interface SharedWords {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly i32: Int32Array;
  readonly backend: WaitBackend;
}

/**
 * Allocates `count` zeroed control words: in native shared memory when the addon is loaded (the
 * primitive then works directly between processes), else in a new SharedArrayBuffer.
 */
export function allocateWords(count: number): SharedWords {
  const native = allocateNativeSmall(count);
  if (native) return native;
  const buffer = new SharedArrayBuffer(count * 4);
  return { buffer, byteOffset: 0, i32: new Int32Array(buffer), backend: atomicsBackend };
}

/** Views `count` words of an existing buffer. */
export function wordsOf(buffer: SharedArrayBuffer, byteOffset = 0, count = (buffer.byteLength - byteOffset) / 4): SharedWords {
  return { buffer, byteOffset, i32: new Int32Array(buffer, byteOffset, count), backend: atomicsBackend };
}

/**
 * Values in Redis are bytes of the @ipc codec. What comes back from Redis is decoded as bytes from
 * a network peer: data only, no handle revived, no module loaded, no memory mapped.
 */
import { deserialize, MessageTooLargeError } from "@ipc/core";
import { serializeAt } from "@ipc/core/internal";

/** Default largest encoded value: 16 MiB (Redis accepts up to 512 MB, but large values stall it). */
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;

/** Encodes a value for Redis; refuses one larger than `max` bytes. */
export function encode(value: unknown, max: number, what = "value"): Buffer {
  const bytes = serializeAt(value, what) as Buffer;
  if (bytes.length > max) {
    throw new MessageTooLargeError(`${what} is ${bytes.length} bytes encoded, more than maxValueBytes (${max}); store large data elsewhere and pass a reference`);
  }
  return bytes;
}

/** Decodes a value read from Redis. */
export function decode<T>(bytes: Buffer): T {
  return deserialize<T>(bytes, { peer: true });
}

import { deserialize } from "./decoder.js";
import { serialize } from "./encoder.js";

/** A pair of functions that turn values into bytes and back. */
export interface Codec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

/** The default codec of `@ipc` (see `serialize`). */
export const defaultCodec: Codec = { encode: (v) => serialize(v), decode: (b) => deserialize(b) };

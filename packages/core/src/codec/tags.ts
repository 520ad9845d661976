/**
 * Wire tags of the @ipc codec. One byte each; a value is a tag followed by its payload.
 * Integers that follow tags are unsigned LEB128 varints unless noted.
 */
export const Tag = {
  Undefined: 0,
  Null: 1,
  False: 2,
  True: 3,
  Int32: 4, // 4 bytes LE
  Float64: 5, // 8 bytes LE
  BigInt: 6, // sign byte, varint byte length, magnitude LE
  String: 7, // varint utf8 length, bytes
  Array: 8, // varint length, items (Hole for missing)
  Hole: 9,
  Object: 10, // varint count, (key string, value)*
  Map: 11, // varint count, (key, value)*
  Set: 12, // varint count, values
  Date: 13, // float64
  RegExp: 14, // source string, flags string
  ArrayBuffer: 15, // varint length, bytes
  TypedArray: 16, // kind byte, varint byte length, bytes
  Error: 17, // name, message, stack, has-cause byte, cause?, extra props object
  BackRef: 18, // varint index of an earlier object
  Class: 19, // name string, own fields object
  Handle: 20, // type string, module string ('' if none), state value
  SharedArrayBuffer: 21, // varint index into the side table of shared buffers
  Boxed: 22, // inner primitive value (new Number(1), new String('a'), Object(1n), ...)
  SmallInt: 23, // 1 byte 0..255
  Int32s: 24, // varint length, then that many int32 LE: an array of int32 numbers only (no holes)
  Float64s: 25, // varint length, then that many float64 LE: an array of numbers only (no holes)
} as const;

/**
 * Arrays of numbers from this length up travel as one block of int32 or float64 (`Int32s`,
 * `Float64s`): copied by the engine's typed-array code on both sides, which is fast from the first
 * call, where encoding item by item runs in the interpreter until the JIT has warmed up (a pool's
 * first `map` of 100k numbers: 120 ms item by item, cold).
 */
export const DENSE_MIN = 16;

/** True on a little-endian machine: typed arrays there are already in the wire's byte order. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Typed-array kinds, by constructor. */
export const typedArrayKinds = [
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
  Buffer,
] as const;

/** Kind number of Node's Buffer. */
export const BUFFER_KIND = typedArrayKinds.length - 1;
/** Kind number of DataView. */
export const DATAVIEW_KIND = typedArrayKinds.length - 2;

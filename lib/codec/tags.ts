/**
 * The one-byte type tags of fanout's value encoding (format version 1).
 *
 * The format is fanout's own, written in plain TypeScript, so that the same bytes decode to
 * the same values on every Node version (v8.serialize is not stable across versions).
 * Changing a tag's meaning is a breaking change: add new tags instead.
 */
export const Tag = {
  Undefined: 0x00,
  Null: 0x01,
  False: 0x02,
  True: 0x03,
  Int32: 0x04,
  Float64: 0x05,
  String: 0x06,
  BigInt: 0x07,
  Array: 0x08,
  Object: 0x09,
  Map: 0x0a,
  Set: 0x0b,
  Date: 0x0c,
  RegExp: 0x0d,
  Error: 0x0e,
  ArrayBuffer: 0x0f,
  TypedArray: 0x10,
  BackReference: 0x11,
  Hole: 0x12,
  Handle: 0x13,
} as const;

/** Typed-array kinds, in a fixed order that is part of the format. */
export const typedArrayKinds = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
  'Buffer',
] as const;

export type TypedArrayKind = (typeof typedArrayKinds)[number];

/** The symbol by which an object says how it crosses a boundary as a handle (see {@link Handle}). */
export const toHandle: unique symbol = Symbol.for('fanout.toHandle') as never;

/**
 * The format is little-endian; numbers are read and written through typed arrays in the
 * platform's byte order, which is little-endian on every platform Node.js supports today.
 */
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('fanout: this platform is big-endian; the fanout codec supports little-endian platforms only.');
}

/**
 * Typed access to the ES2024 shared-memory features Node 20 has but the project's `lib`
 * (ES2023) does not describe: growable SharedArrayBuffers and `Atomics.waitAsync`.
 */

/** A SharedArrayBuffer that can grow in place, seen at its new size by every thread. */
export interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  grow(byteLength: number): void;
  readonly maxByteLength: number;
}

/** A new growable SharedArrayBuffer of `byteLength` bytes, growable up to `maxByteLength`. */
export function growableSharedBuffer(byteLength: number, maxByteLength: number): GrowableSharedArrayBuffer {
  const Constructor = SharedArrayBuffer as unknown as new (
    length: number,
    options: { maxByteLength: number },
  ) => GrowableSharedArrayBuffer;
  return new Constructor(byteLength, { maxByteLength });
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/** `Atomics.waitAsync`: waits on `array[index]` while it is `value`, without blocking the thread. */
export const waitAsync = (
  Atomics as unknown as { waitAsync: (array: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult }
).waitAsync;

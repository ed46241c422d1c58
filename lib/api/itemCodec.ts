import { ValueDecoder } from '../codec/ValueDecoder.js';
import { ValueEncoder } from '../codec/ValueEncoder.js';

// Every backend alike: an aws Queue's handle is plain data, but Python refuses it in an item too.
const encoder = new ValueEncoder(
  'it is a shared object (a Queue, a Pipe end, a Lock, a Value...), which cannot be stored in a queue or sent ' +
    'through a pipe. Pass it to the Process or task as an argument instead.',
);

/**
 * Encodes an item for a queue or a pipe with the project's codec, so that what can cross is the
 * same everywhere. Shared objects (a Queue, a Lock...) cannot be stored in a queue, on any
 * backend, as in Python ("Queue objects should only be shared between processes
 * through inheritance"): pass them to the Process or task as arguments instead.
 *
 * @example
 * ```ts
 * const bytes = encodeItem([42, null, 'hello'], 'the item');
 * decodeItem(bytes); // [42, null, 'hello']
 * ```
 */
export function encodeItem(item: unknown, what: string): Uint8Array {
  encoder.write(item, what);
  return encoder.finish();
}

/** Decodes an item made by {@link encodeItem}. */
export function decodeItem(bytes: Uint8Array): unknown {
  return new ValueDecoder(bytes).read();
}

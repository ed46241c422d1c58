import { ValueDecoder } from '../codec/ValueDecoder.js';
import { ValueEncoder } from '../codec/ValueEncoder.js';
import { SerializationError } from '../errors.js';
import { reviveHandle } from '../runtime/handles.js';
import { setEncodingTarget } from './handleTarget.js';

const encoder = new ValueEncoder();

/**
 * Encodes an item for a queue or a pipe with the project's codec, so that what can cross is the
 * same everywhere. Shared objects that live in this machine's memory (a Queue, a Lock...) cannot
 * be stored in a queue, as in Python ("Queue objects should only be shared between processes
 * through inheritance"): pass them to the Process or task as arguments instead.
 *
 * @example
 * ```ts
 * const bytes = encodeItem([42, null, 'hello'], 'the item', 'local');
 * decodeItem(bytes); // [42, null, 'hello']
 * ```
 */
export function encodeItem(item: unknown, what: string, backendName: string): Uint8Array {
  const previous = setEncodingTarget(backendName);
  try {
    encoder.write(item, what);
  } finally {
    setEncodingTarget(previous);
  }
  if (encoder.attachments.length > 0 || encoder.transfer.length > 0) {
    encoder.takeAttachments();
    encoder.finish();
    throw new SerializationError(
      what,
      'it holds a shared object (a Queue, a Pipe end, a Lock, a Value...), which cannot be stored in a queue or sent ' +
        'through a pipe. Pass it to the Process or task as an argument instead.',
    );
  }
  return encoder.finish();
}

/** Decodes an item made by {@link encodeItem}. */
export function decodeItem(bytes: Uint8Array): unknown {
  return new ValueDecoder(bytes, [], reviveHandle).read();
}

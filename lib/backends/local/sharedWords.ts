import { ProtocolError } from '../../errors.js';

/**
 * The SharedArrayBuffer a local object's handle carries at `attachments[index]`, checked. A
 * local object that reached a thread without its memory (through another backend's transport,
 * which cannot carry shared memory) fails here with a clear error instead of misbehaving.
 *
 * @example
 * ```ts
 * const buffer = sharedWords('local.lock', attachments, 0, 5);
 * ```
 */
export function sharedWords(kind: string, attachments: unknown[], index: number, minWords: number): SharedArrayBuffer {
  const buffer = attachments[index];
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new ProtocolError(
      `A '${kind}' object arrived without its shared memory. Objects of the local backend (made by new Lock(), ` +
        "getContext('local')...) work only in threads of the local backend; use the context of the backend that runs the task.",
    );
  }
  if (buffer.byteLength < minWords * 4) {
    throw new ProtocolError(`A '${kind}' object arrived with shared memory of the wrong size.`);
  }
  return buffer;
}

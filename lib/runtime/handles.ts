import { ProtocolError } from '../errors.js';
import type { HandleReviver } from '../codec/ValueDecoder.js';

/** Re-creates an object of one kind from its handle state and attachments. */
export type HandleFactory = (state: unknown, attachments: unknown[]) => unknown;

const factories = new Map<string, HandleFactory>();

/**
 * Registers how handles of `kind` are re-bound on the receiving side. Each shareable class (a
 * Lock, a Queue, a Value...) registers itself when its module loads.
 *
 * @example
 * ```ts
 * registerHandleKind('local.lock', (state, [buffer]) => LocalLock.fromBuffer(buffer as SharedArrayBuffer));
 * ```
 */
export function registerHandleKind(kind: string, factory: HandleFactory): void {
  factories.set(kind, factory);
}

/** The reviver that the decoders of this thread use for handles. */
export const reviveHandle: HandleReviver = (kind, state, attachments) => {
  const factory = factories.get(kind);
  if (!factory) {
    throw new ProtocolError(`A '${kind}' object arrived, but this thread does not know how to re-bind it.`);
  }
  return factory(state, attachments);
};

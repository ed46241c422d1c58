import { BackendMismatchError } from '../errors.js';

/** The backend of the work whose arguments are being encoded right now, if known. */
let target: string | undefined;

/**
 * Runs `encode` knowing that what it encodes goes to work on `backendName`, so that a shared
 * object of another backend refuses to be encoded (see {@link checkHandleTarget}).
 *
 * @example
 * ```ts
 * encodingFor('aws', () => encoder.write(args, 'the arguments')); // a local Queue in args throws
 * ```
 */
export function encodingFor<T>(backendName: string, encode: () => T): T {
  const previous = target;
  target = backendName;
  try {
    return encode();
  } finally {
    target = previous;
  }
}

/**
 * Sets the backend that what is encoded next goes to, returning the previous one to restore
 * (the closure-free form of {@link encodingFor}, for hot paths).
 *
 * @example
 * ```ts
 * const previous = setEncodingTarget('local');
 * try { encoder.write(item, 'the item'); } finally { setEncodingTarget(previous); }
 * ```
 */
export function setEncodingTarget(backendName: string | undefined): string | undefined {
  const previous = target;
  target = backendName;
  return previous;
}

/**
 * Called by a shared object's `[toHandle]()`: throws {@link BackendMismatchError} when it is
 * being sent to work of another backend than its own.
 *
 * @example
 * ```ts
 * [toHandle]() { checkHandleTarget('Queue', this.engine.backendName); return this.engine.handle(); }
 * ```
 */
export function checkHandleTarget(what: string, backendName: string): void {
  if (target !== undefined && target !== backendName) throw new BackendMismatchError(what, backendName, target);
}

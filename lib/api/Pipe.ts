import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { InvalidArgumentError, NotSupportedError } from '../errors.js';
import { Connection } from './Connection.js';

/**
 * A pipe between two {@link Connection}s, as Python's `multiprocessing.Pipe`. Duplex (the default):
 * each end sends to and receives from the other. `Pipe(false)`: the first end only receives, the
 * second only sends.
 *
 * @example
 * ```ts
 * const [parentConn, childConn] = Pipe();
 * const [reader, writer] = Pipe(false);
 * await writer.send('hi');
 * await reader.recv(); // 'hi'
 * ```
 */
export function Pipe<T = unknown>(duplex = true, backend: Backend = defaultBackend()): [Connection<T>, Connection<T>] {
  if (typeof duplex !== 'boolean') throw new InvalidArgumentError('Pipe(duplex): duplex', duplex, 'true or false');
  if (!backend.createChannel) throw new NotSupportedError(`The '${backend.name}' backend has no pipes.`);
  const forward = backend.createChannel();
  if (!duplex) return [new Connection<T>(forward, undefined, true), new Connection<T>(undefined, forward, true)];
  const backward = backend.createChannel();
  return [new Connection<T>(forward, backward, true), new Connection<T>(backward, forward, true)];
}

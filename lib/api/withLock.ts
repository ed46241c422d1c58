import { InvalidArgumentError } from '../errors.js';
import { holdLock, type Acquirable, type AcquireOptions } from './acquire.js';

/**
 * Runs `fn` while holding `lock` (a `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore` or
 * `Condition`), as Python's `with lock:`; releases it however `fn` ends. Throws `TimeoutError`
 * if `options` limit the wait and the lock could not be taken in time.
 *
 * @example
 * ```ts
 * const total = new Value('i', 0);
 * await withLock(total.getLock(), async () => {
 *   await total.set((await total.get()) + 1);
 * });
 * ```
 */
export async function withLock<R>(lock: Acquirable, fn: () => R | Promise<R>, options?: AcquireOptions): Promise<R> {
  const candidate = lock as Partial<Acquirable> | null;
  if (typeof candidate?.acquire !== 'function' || typeof candidate.release !== 'function') {
    throw new InvalidArgumentError('withLock(lock, fn): lock', lock, 'a Lock, RLock, Semaphore, BoundedSemaphore or Condition');
  }
  if (typeof fn !== 'function') throw new InvalidArgumentError('withLock(lock, fn): fn', fn, 'a function');
  await using _held = await holdLock(lock, options, lock.constructor.name || 'lock');
  return await fn();
}

import type { SemaphoreEngine } from '../backend/SyncEngines.js';
import { Semaphore } from './Semaphore.js';

/**
 * A semaphore that refuses to be released above its initial value, as Python's
 * `multiprocessing.BoundedSemaphore`: an extra `release()` rejects with `ValueError`, which
 * catches a release without a matching acquire.
 *
 * @example
 * ```ts
 * const pool = new BoundedSemaphore(1);
 * await pool.acquire();
 * await pool.release();
 * await pool.release(); // ValueError: released too many times
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  protected static override readonly bounded: boolean = true;

  /** @internal Wraps a backend semaphore that crossed from another thread. */
  static override fromEngine(engine: SemaphoreEngine): BoundedSemaphore {
    return Semaphore.fromEngine(engine, BoundedSemaphore.prototype) as BoundedSemaphore;
  }
}

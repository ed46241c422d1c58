import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { backendPart } from '../backend/Backend.js';
import type { SemaphoreEngine } from '../backend/SyncEngines.js';
import { toHandle } from '../codec/tags.js';
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import { InvalidArgumentError } from '../errors.js';
import { checkHandleTarget } from './handleTarget.js';
import { acquireWith, holdLock, type AcquireOptions } from './acquire.js';

const DONE = Promise.resolve();
/** The largest value a semaphore holds, as Python's `SEM_VALUE_MAX` on Linux. */
export const SEMAPHORE_VALUE_MAX = 0x7fffffff;

/**
 * A counting semaphore shared by every worker, as Python's `multiprocessing.Semaphore`:
 * `acquire` takes one unit (waiting while there is none), `release` gives units back.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(2); // at most two at once
 * await withLock(slots, () => download(url));
 * ```
 */
export class Semaphore {
  /** Whether instances refuse a release past their initial value (see BoundedSemaphore). */
  protected static readonly bounded: boolean = false;

  /** @internal The backend's semaphore. */
  readonly engine: SemaphoreEngine;

  constructor(value = 1, backend: Backend = defaultBackend()) {
    const bounded = (new.target as typeof Semaphore).bounded;
    const name = bounded ? 'BoundedSemaphore' : 'Semaphore';
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > SEMAPHORE_VALUE_MAX) {
      throw new InvalidArgumentError(`new ${name}(value)`, value, `a whole number in 0..${SEMAPHORE_VALUE_MAX}`);
    }
    this.engine = backendPart(backend, 'createSemaphore', name)(value, bounded ? value : undefined);
  }

  /** @internal Wraps a backend semaphore that crossed from another thread. */
  static fromEngine(engine: SemaphoreEngine, prototype: object = Semaphore.prototype): Semaphore {
    const semaphore = Object.create(prototype) as { engine: SemaphoreEngine };
    semaphore.engine = engine;
    return semaphore as Semaphore;
  }

  /**
   * Takes one unit: resolves true once taken, or false when `block` is false or `timeout` ms
   * pass first.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return acquireWith(this.engine, options, `${this.kindName()}.acquire`);
  }

  /**
   * Gives back `n` units (default 1), waking as many waiters. A BoundedSemaphore rejects with
   * `ValueError` (changing nothing) if that would pass its initial value.
   */
  release(n = 1): Promise<void> {
    try {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
        throw new InvalidArgumentError(`${this.kindName()}.release(n)`, n, 'a whole number ≥ 1');
      }
      const done = this.engine.release(n);
      return done === undefined ? DONE : done;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The current value, as Python's `get_value()`. */
  async getValue(): Promise<number> {
    return this.engine.getValue();
  }

  /** Takes one unit and returns a disposable that gives it back, for `await using`. */
  hold(options?: AcquireOptions): Promise<AsyncDisposable> {
    return holdLock(this, options, this.kindName());
  }

  /** 'Semaphore' or 'BoundedSemaphore', for messages (subclasses made by a context have no name). */
  private kindName(): string {
    return this.engine.maxValue === undefined ? 'Semaphore' : 'BoundedSemaphore';
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget(this.kindName(), this.engine.backend);
    return this.engine.handle();
  }
}

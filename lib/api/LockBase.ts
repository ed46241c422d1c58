import type { LockEngine } from '../backend/SyncEngines.js';
import { toHandle } from '../codec/tags.js';
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import { checkHandleTarget } from './handleTarget.js';
import { acquireWith, holdLock, type AcquireOptions } from './acquire.js';

const DONE = Promise.resolve();

/**
 * What `Lock` and `RLock` share: a backend lock, and the calls on it. The subclasses differ in
 * whether the lock is re-entrant and in their names in errors.
 *
 * @example
 * ```ts
 * async function critical(lock: LockBase) {
 *   await using _ = await lock.hold();
 * }
 * ```
 */
export abstract class LockBase {
  /** @internal The backend's lock. */
  readonly engine: LockEngine;

  /** The class's name, for errors: `Lock` or `RLock`. */
  private readonly kind: string;

  protected constructor(engine: LockEngine, kind: string) {
    this.engine = engine;
    this.kind = kind;
  }

  /**
   * Takes the lock: resolves true once held, or false when `block` is false or `timeout` ms
   * pass first.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return acquireWith(this.engine, options, `${this.kind}.acquire`);
  }

  /**
   * Releases the lock. A `Lock` may be released by any thread (`ValueError` if it is not
   * locked); an `RLock` only by its owner, one level at a time (`RuntimeError` otherwise).
   */
  release(): Promise<void> {
    try {
      const done = this.engine.release();
      return done === undefined ? DONE : done;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The fencing token of this copy's latest acquisition: it grows with every acquisition of the
   * lock by anyone, anywhere. A resource guarded by the lock can refuse a write that carries a
   * token lower than one it has already seen, which stops a holder that paused past its lease
   * (a frozen Lambda) from writing after another has taken the lock. `undefined` until this copy
   * has acquired the lock.
   *
   * @example
   * ```ts
   * await lock.acquire();
   * await store.put(key, value, { ifTokenAbove: lock.fencingToken });
   * ```
   */
  get fencingToken(): number | undefined {
    return this.engine.fencingToken;
  }

  /** Whether someone holds the lock now. */
  async locked(): Promise<boolean> {
    return this.engine.locked();
  }

  /**
   * Acquires the lock and returns a disposable that releases it, for `await using`. Rejects
   * with `TimeoutError` if `options` limit the wait and the lock was not taken.
   */
  hold(options?: AcquireOptions): Promise<AsyncDisposable> {
    return holdLock(this, options, this.kind);
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget(this.kind, this.engine.backend);
    return this.engine.handle();
  }
}

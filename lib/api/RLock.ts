import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { syncBackendOf, type LockImpl } from '../backend/SyncBackend.js';
import { toHandle } from '../codec/tags.js';
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import { checkHandleTarget } from './handleTarget.js';
import { acquireWith, holdLock, type AcquireOptions } from './acquire.js';

const DONE = Promise.resolve();

/**
 * A re-entrant lock shared by every worker, as Python's `multiprocessing.RLock`: its owner (this
 * thread, in this process) may acquire it again, and must release it as many times. Only the
 * owner may release it: anyone else gets `RuntimeError`, as does releasing it when not held.
 *
 * Ownership is per thread, as in Python: two async functions running in the same thread count
 * as the same owner. Passed to a task or a Process, it is the same lock there.
 *
 * @example
 * ```ts
 * const lock = new RLock();
 * await lock.acquire();
 * await lock.acquire(); // the owner may take it again
 * await lock.release();
 * await lock.release(); // now free
 * ```
 */
export class RLock {
  /** @internal The backend's lock. */
  readonly impl: LockImpl;

  constructor(backend: Backend = defaultBackend()) {
    this.impl = syncBackendOf(backend, 'RLock').createLock(true);
  }

  /** @internal Wraps a backend lock that crossed from another thread. */
  static fromImpl(impl: LockImpl): RLock {
    const lock = Object.create(RLock.prototype) as { impl: LockImpl };
    lock.impl = impl;
    return lock as RLock;
  }

  /**
   * Takes the lock: resolves true once held, or false when `block` is false or `timeout` ms
   * pass first.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return acquireWith(this.impl, options, 'RLock.acquire');
  }

  /** Releases one level of the lock; rejects with `RuntimeError` unless this thread holds it. */
  release(): Promise<void> {
    try {
      const done = this.impl.release();
      return done === undefined ? DONE : done;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Whether someone holds the lock now (not part of Python's RLock; handy for tests and logs). */
  async locked(): Promise<boolean> {
    return this.impl.locked();
  }

  /**
   * Acquires the lock and returns a disposable that releases it, for `await using`. Rejects
   * with `TimeoutError` if `options` limit the wait and the lock was not taken.
   */
  hold(options?: AcquireOptions): Promise<AsyncDisposable> {
    return holdLock(this, options, 'RLock');
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget('RLock', this.impl.backend);
    return this.impl.describe();
  }
}

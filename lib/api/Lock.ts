import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { syncBackendOf, type LockImpl } from '../backend/SyncBackend.js';
import { toHandle } from '../codec/tags.js';
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import { checkHandleTarget } from './handleTarget.js';
import { acquireWith, holdLock, type AcquireOptions } from './acquire.js';

const DONE = Promise.resolve();

/**
 * A lock shared by every worker, as Python's `multiprocessing.Lock`: not recursive (acquiring
 * it twice without a release waits for ever), and any thread may release it. Passed to a task
 * or a Process, it is the same lock there.
 *
 * Releasing a lock that is not locked raises `ValueError`. Uncontended, `acquire` takes the
 * lock without waiting for anything; contended, it waits without blocking the event loop.
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * await lock.acquire();
 * try {
 *   console.log('only one at a time');
 * } finally {
 *   await lock.release();
 * }
 * // or: await using _ = await lock.hold();
 * // or: await withLock(lock, () => console.log('only one at a time'));
 * ```
 */
export class Lock {
  /** @internal The backend's lock. */
  readonly impl: LockImpl;

  constructor(backend: Backend = defaultBackend()) {
    this.impl = syncBackendOf(backend, 'Lock').createLock(false);
  }

  /** @internal Wraps a backend lock that crossed from another thread. */
  static fromImpl(impl: LockImpl): Lock {
    const lock = Object.create(Lock.prototype) as { impl: LockImpl };
    lock.impl = impl;
    return lock as Lock;
  }

  /**
   * Takes the lock: resolves true once held, or false when `block` is false or `timeout` ms
   * pass first.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return acquireWith(this.impl, options, 'Lock.acquire');
  }

  /** Releases the lock; rejects with `ValueError` if it is not locked. */
  release(): Promise<void> {
    try {
      const done = this.impl.release();
      return done === undefined ? DONE : done;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Whether someone holds the lock now. */
  async locked(): Promise<boolean> {
    return this.impl.locked();
  }

  /**
   * Acquires the lock and returns a disposable that releases it, for `await using`. Rejects
   * with `TimeoutError` if `options` limit the wait and the lock was not taken.
   */
  hold(options?: AcquireOptions): Promise<AsyncDisposable> {
    return holdLock(this, options, 'Lock');
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget('Lock', this.impl.backend);
    return this.impl.describe();
  }
}

import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { backendPart } from '../backend/Backend.js';
import { Deadline } from '../backend/Deadline.js';
import type { ConditionEngine } from '../backend/SyncEngines.js';
import { toHandle } from '../codec/tags.js';
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import { BackendMismatchError, InvalidArgumentError } from '../errors.js';
import { acquireWith, holdLock, type AcquireOptions } from './acquire.js';
import { checkTimeout } from './checks.js';
import { checkHandleTarget } from './handleTarget.js';
import { Lock } from './Lock.js';
import { RLock } from './RLock.js';

const DONE = Promise.resolve();

/**
 * A condition variable shared by every worker, as Python's `multiprocessing.Condition`: wait
 * (with the lock held) until another party changes some shared state and notifies. Its lock is
 * the one given, or a new `RLock`.
 *
 * `wait` and `notify` require the caller to hold the lock (`RuntimeError` otherwise). A waiter
 * registered before a `notify` is never missed; which waiters `notify(n)` wakes is not ordered.
 *
 * @example
 * ```ts
 * const condition = new Condition();
 * const items = new Value('i', 0);
 * // consumer
 * await withLock(condition, () => condition.waitFor(async () => (await items.get()) > 0));
 * // producer
 * await withLock(condition, async () => {
 *   await items.add(1);
 *   await condition.notify();
 * });
 * ```
 */
export class Condition {
  /** @internal The backend's condition. */
  readonly engine: ConditionEngine;
  private readonly lock: Lock | RLock;

  constructor(lock?: Lock | RLock, backend: Backend = defaultBackend()) {
    if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
      throw new InvalidArgumentError('new Condition(lock)', lock, 'a Lock, an RLock, or undefined (for a new RLock)');
    }
    if (lock !== undefined && lock.engine.backend !== backend.name) {
      throw new BackendMismatchError(
        `${lock instanceof Lock ? 'Lock' : 'RLock'} given to a Condition`,
        lock.engine.backend,
        backend.name,
      );
    }
    this.lock = lock ?? new RLock(backend);
    this.engine = backendPart(backend, 'createCondition', 'Condition')(this.lock.engine);
  }

  /** @internal Wraps a backend condition that crossed from another thread, with its lock. */
  static fromEngine(engine: ConditionEngine, lock: Lock | RLock): Condition {
    const condition = Object.create(Condition.prototype) as { engine: ConditionEngine; lock: Lock | RLock };
    condition.engine = engine;
    condition.lock = lock;
    return condition as unknown as Condition;
  }

  /** Acquires the underlying lock (see `Lock.acquire`). */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return acquireWith(this.engine.lock, options, 'Condition.acquire');
  }

  /** Releases the underlying lock. */
  release(): Promise<void> {
    return this.lock.release();
  }

  /** Acquires the underlying lock for `await using`. */
  hold(options?: AcquireOptions): Promise<AsyncDisposable> {
    return holdLock(this, options, 'Condition');
  }

  /** The underlying lock. */
  getLock(): Lock | RLock {
    return this.lock;
  }

  /**
   * Releases the lock (every level of an RLock), waits for a notify or `timeout` ms, and takes
   * the lock back before resolving: true if notified, false on timeout.
   */
  async wait(timeout?: number): Promise<boolean> {
    checkTimeout('Condition.wait(timeout)', timeout);
    return this.engine.wait(Deadline.after(timeout));
  }

  /**
   * Waits until `predicate()` (sync or async) is truthy, re-checking after each notify, for at
   * most `timeout` ms in all. Resolves with the predicate's last result, as Python's `wait_for`.
   */
  async waitFor<R>(predicate: () => R | Promise<R>, timeout?: number): Promise<R> {
    if (typeof predicate !== 'function') throw new InvalidArgumentError('Condition.waitFor(predicate)', predicate, 'a function');
    checkTimeout('Condition.waitFor(predicate, timeout)', timeout);
    const deadline = Deadline.after(timeout);
    let result = await predicate();
    while (!result && !deadline.expired()) {
      await this.engine.wait(deadline);
      result = await predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiters (default 1). The caller must hold the lock. */
  notify(n = 1): Promise<void> {
    try {
      if (typeof n !== 'number' || !(Number.isInteger(n) || n === Infinity) || n < 0) {
        throw new InvalidArgumentError('Condition.notify(n)', n, 'a whole number ≥ 0');
      }
      const done = this.engine.notify(n);
      return done === undefined ? DONE : done;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Wakes every waiter. The caller must hold the lock. */
  notifyAll(): Promise<void> {
    return this.notify(Infinity);
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget('Condition', this.engine.backend);
    const described = this.engine.handle();
    return { ...described, state: { engine: described.state, lock: this.lock } };
  }
}

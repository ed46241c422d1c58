import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { backendPart } from '../backend/Backend.js';
import type { LockEngine } from '../backend/SyncEngines.js';
import { LockBase } from './LockBase.js';

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
export class RLock extends LockBase {
  constructor(backend: Backend = defaultBackend()) {
    super(backendPart(backend, 'createLock', 'RLock')(true), 'RLock');
  }

  /** @internal Wraps a backend lock that crossed from another thread. */
  static fromEngine(engine: LockEngine): RLock {
    const lock = Object.create(RLock.prototype) as { engine: LockEngine; kind: string };
    lock.engine = engine;
    lock.kind = 'RLock';
    return lock as unknown as RLock;
  }
}

import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { backendPart } from '../backend/Backend.js';
import type { LockEngine } from '../backend/SyncEngines.js';
import { LockBase } from './LockBase.js';

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
export class Lock extends LockBase {
  constructor(backend: Backend = defaultBackend()) {
    super(backendPart(backend, 'createLock', 'Lock')(false), 'Lock');
  }

  /** @internal Wraps a backend lock that crossed from another thread. */
  static fromEngine(engine: LockEngine): Lock {
    const lock = Object.create(Lock.prototype) as { engine: LockEngine; kind: string };
    lock.engine = engine;
    lock.kind = 'Lock';
    return lock as unknown as Lock;
  }
}

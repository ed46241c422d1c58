import type { LockImpl, SyncBackend } from '../../backend/SyncBackend.js';
import type { ElementOf, Typecode } from '../../api/typecodes.js';
import { BackendMismatchError } from '../../errors.js';
import { LocalBarrier } from './LocalBarrier.js';
import { LocalCondition } from './LocalCondition.js';
import { LocalEvent } from './LocalEvent.js';
import { LocalLock } from './LocalLock.js';
import { LocalSemaphore } from './LocalSemaphore.js';
import { LocalSharedMemory } from './LocalSharedMemory.js';

/**
 * Synchronisation primitives and shared memory of the local backend: SharedArrayBuffer and
 * Atomics, shared by every worker thread of this process.
 *
 * @example
 * ```ts
 * const lock = new LocalSyncBackend().createLock(false);
 * ```
 */
export class LocalSyncBackend implements SyncBackend {
  createLock(recursive: boolean): LocalLock {
    return LocalLock.create(recursive);
  }

  createSemaphore(value: number, maxValue: number | undefined): LocalSemaphore {
    return LocalSemaphore.create(value, maxValue);
  }

  createEvent(): LocalEvent {
    return LocalEvent.create();
  }

  createCondition(lock: LockImpl): LocalCondition {
    if (!(lock instanceof LocalLock)) {
      throw new BackendMismatchError('lock given to a Condition', lock.backend, 'local');
    }
    return LocalCondition.create(lock);
  }

  createBarrier(parties: number): LocalBarrier {
    return LocalBarrier.create(parties);
  }

  createSharedMemory<T extends Typecode>(typecode: T, items: ReadonlyArray<ElementOf<T>> | number): LocalSharedMemory<T> {
    return LocalSharedMemory.create(typecode, items);
  }
}

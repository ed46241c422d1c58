import { availableParallelism } from 'node:os';
import type { Backend } from '../../backend/Backend.js';
import type { PoolEngine, PoolEngineOptions } from '../../backend/PoolEngine.js';
import { LocalPoolEngine } from './LocalPoolEngine.js';
import type { LockEngine } from '../../backend/SyncEngines.js';
import type { ElementOf, Typecode } from '../../api/typecodes.js';
import { BackendMismatchError, InvalidArgumentError } from '../../errors.js';
import { LocalBarrier } from './LocalBarrier.js';
import { LocalCondition } from './LocalCondition.js';
import { LocalEvent } from './LocalEvent.js';
import { LocalLock } from './LocalLock.js';
import { LocalSemaphore } from './LocalSemaphore.js';
import { LocalSharedMemory } from './LocalSharedMemory.js';
import type { ProcessEngine, ProcessSpec } from '../../backend/ProcessEngine.js';
import type { QueueEngine, QueueEngineOptions } from '../../backend/QueueEngine.js';
import type { ChannelEngine } from '../../backend/ChannelEngine.js';
import { LocalProcess } from './LocalProcess.js';
import { LocalQueueEngine } from './LocalQueueEngine.js';
import { LocalChannelEngine } from './LocalChannelEngine.js';
import { assertNotBootstrapping } from '../../runtime/bundledThread.js';

/**
 * The embedded default backend: worker threads on this machine, and primitives in
 * SharedArrayBuffers with Atomics, shared by every worker thread of this process.
 *
 * @example
 * ```ts
 * const pool = new Pool(4, new LocalBackend());
 * ```
 */
export class LocalBackend implements Backend {
  readonly name = 'local' as const;

  /** `FANOUT_PROCESSES` if set (the CLI's `--processes`), else the available parallelism. */
  defaultProcesses(): number {
    const fromEnvironment = process.env.FANOUT_PROCESSES;
    if (fromEnvironment === undefined || fromEnvironment === '') return availableParallelism();
    const processes = Number(fromEnvironment);
    if (!Number.isInteger(processes) || processes < 1) {
      throw new InvalidArgumentError('the FANOUT_PROCESSES environment variable', fromEnvironment, 'a whole number ≥ 1');
    }
    return processes;
  }

  createPoolEngine(options: PoolEngineOptions): PoolEngine {
    assertNotBootstrapping('new Pool()');
    return new LocalPoolEngine(options);
  }

  createLock(recursive: boolean): LocalLock {
    return LocalLock.create(recursive);
  }

  createSemaphore(value: number, maxValue: number | undefined): LocalSemaphore {
    return LocalSemaphore.create(value, maxValue);
  }

  createEvent(): LocalEvent {
    return LocalEvent.create();
  }

  createCondition(lock: LockEngine): LocalCondition {
    if (!(lock instanceof LocalLock)) throw new BackendMismatchError('lock given to a Condition', lock.backend, 'local');
    return LocalCondition.create(lock);
  }

  createBarrier(parties: number): LocalBarrier {
    return LocalBarrier.create(parties);
  }

  /** `shards` is ignored: an atomic add in shared memory has no per-cell limit to spread over. */
  createSharedMemory<T extends Typecode>(typecode: T, items: ReadonlyArray<ElementOf<T>> | number): LocalSharedMemory<T> {
    return LocalSharedMemory.create(typecode, items);
  }

  startProcess(spec: ProcessSpec): ProcessEngine {
    assertNotBootstrapping('Process.start()');
    return new LocalProcess(spec);
  }

  createQueue(options: QueueEngineOptions): QueueEngine {
    return LocalQueueEngine.create(options);
  }

  createChannel(): ChannelEngine {
    return LocalChannelEngine.create();
  }
}

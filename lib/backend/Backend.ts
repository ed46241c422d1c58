import type { JobService } from './JobService.js';
import type { ElementOf, Typecode } from '../api/typecodes.js';
import { NotSupportedError } from '../errors.js';
import type { PoolEngine, PoolEngineOptions } from './PoolEngine.js';
import type { ProcessEngine, ProcessSpec } from './ProcessEngine.js';
import type { QueueEngine, QueueEngineOptions } from './QueueEngine.js';
import type { ChannelEngine } from './ChannelEngine.js';
import type {
  BarrierEngine,
  ConditionEngine,
  EventEngine,
  LockEngine,
  SemaphoreEngine,
  SharedMemoryEngine,
} from './SyncEngines.js';

/** The names of the backends fanout ships. */
export type BackendName = 'local' | 'aws';

/**
 * What a backend provides (the SPI). The public classes (`Pool`, `Lock`, `Queue`...) hold a
 * backend and delegate to it; a backend only implements the parts that differ between
 * backends. Every part but the pool is optional: a backend offers the primitives it has, and
 * the public class of a missing one refuses clearly ({@link backendPart}).
 *
 * @example
 * ```ts
 * const engine = getContext('local').backend.createPoolEngine({ processes: 2, taskModules: [] });
 * ```
 */
export interface Backend {
  readonly name: BackendName;
  /** How many workers a pool gets when `processes` is not given. */
  defaultProcesses(): number;
  createPoolEngine(options: PoolEngineOptions): PoolEngine;
  /** Loads what the backend needs to make objects without waiting (see `Context.ready`). */
  ready?(): Promise<void>;
  /** `Lock` (not recursive) and `RLock` (recursive). */
  createLock?(recursive: boolean): LockEngine;
  /** `Semaphore`, and `BoundedSemaphore` when `maxValue` is set. */
  createSemaphore?(value: number, maxValue: number | undefined): SemaphoreEngine;
  createEvent?(): EventEngine;
  /** A condition variable over a lock made by this backend. */
  createCondition?(lock: LockEngine): ConditionEngine;
  createBarrier?(parties: number): BarrierEngine;
  /** `Value` and `Array`: `items` are initial values (already checked), or a length for zeros. */
  /** `shards` (a Value's, checked): cells for a hot counter, where the backend has a per-cell limit. */
  createSharedMemory?<T extends Typecode>(
    typecode: T,
    items: ReadonlyArray<ElementOf<T>> | number,
    options?: { shards?: number },
  ): SharedMemoryEngine<T>;
  /** Starts a process running a task (`Process`). */
  startProcess?(spec: ProcessSpec): ProcessEngine;
  /** Makes a queue (`Queue`, `JoinableQueue`, `SimpleQueue`). */
  createQueue?(options: QueueEngineOptions): QueueEngine;
  /** Makes one direction of a pipe (`Pipe`). */
  createChannel?(): ChannelEngine;
  /** Jobs that outlive their caller, by id (`Job.attach`), where the backend records them. */
  jobs?(): JobService;
}

/** The optional parts of a backend. */
export type BackendPartName =
  | 'createLock'
  | 'createSemaphore'
  | 'createEvent'
  | 'createCondition'
  | 'createBarrier'
  | 'createSharedMemory'
  | 'startProcess'
  | 'createQueue'
  | 'createChannel';

/**
 * One optional part of `backend`, bound to it; throws {@link NotSupportedError} naming the
 * backend and `what` (the public class being made) when the backend does not offer it.
 *
 * @example
 * ```ts
 * const engine = backendPart(backend, 'createLock', 'Lock')(false);
 * ```
 */
export function backendPart<K extends BackendPartName>(backend: Backend, part: K, what: string): NonNullable<Backend[K]> {
  const factory = backend[part] as ((...args: never[]) => unknown) | undefined;
  if (typeof factory !== 'function') {
    throw new NotSupportedError(`The '${backend.name}' backend does not provide ${what}.`);
  }
  return factory.bind(backend) as NonNullable<Backend[K]>;
}

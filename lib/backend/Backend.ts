import type { PoolEngine, PoolEngineOptions } from './PoolEngine.js';
import type { SyncBackend } from './SyncBackend.js';
import type { ProcessEngine, ProcessSpec } from './ProcessEngine.js';
import type { QueueEngine, QueueEngineOptions } from './QueueEngine.js';
import type { ChannelEngine } from './ChannelEngine.js';

/** The names of the backends fanout ships. */
export type BackendName = 'local' | 'aws';

/**
 * What a backend provides (the SPI). The public classes (`Pool`, ...) hold a backend and
 * delegate to it; a backend only implements the parts that differ between backends.
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
  /** Locks, semaphores, events, conditions, barriers and shared values; absent if unsupported. */
  readonly sync?: SyncBackend;
  /** Starts a process running a task (`Process`). Optional: a backend without it refuses `Process` clearly. */
  startProcess?(spec: ProcessSpec): ProcessEngine;
  /** Makes a queue (`Queue`, `JoinableQueue`, `SimpleQueue`). */
  createQueue?(options: QueueEngineOptions): QueueEngine;
  /** Makes one direction of a pipe (`Pipe`). */
  createChannel?(): ChannelEngine;
}

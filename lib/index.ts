/**
 * fanout: Python's multiprocessing model for TypeScript.
 *
 * @example
 * ```ts
 * import { Pool, task } from 'fanout';
 * ```
 */
export { task, isTask, type Task, type TaskArgs, type TaskResult } from './api/task.js';
export {
  Pool,
  type PoolOptions,
  type CallOptions,
  type MapOptions,
  type AsyncCallOptions,
  type AsyncMapOptions,
} from './api/Pool.js';
export { AsyncResult, type ResultCallbacks } from './api/AsyncResult.js';
export { Context, getContext } from './api/Context.js';
export type { Backend, BackendName } from './backend/Backend.js';
export type { PoolStats } from './backend/PoolEngine.js';
export {
  FanoutError,
  RemoteError,
  WorkerCrashedError,
  SerializationError,
  PoolClosedError,
  UnknownTaskError,
  TaskDefinitionError,
  TaskModuleError,
  InvalidArgumentError,
  ValueError,
  TimeoutError,
  InitializerError,
  ProtocolError,
  Empty,
  Full,
  EOFError,
  BrokenPipeError,
  ProcessError,
  BackendMismatchError,
  NotSupportedError,
  BrokenQueueError,
} from './errors.js';
export { Process, currentProcess, parentProcess, activeChildren, type ProcessOptions, type ProcessInfo } from './api/Process.js';
export { Queue, type QueueWaitOptions } from './api/Queue.js';
export { JoinableQueue } from './api/JoinableQueue.js';
export { SimpleQueue } from './api/SimpleQueue.js';
export { Pipe } from './api/Pipe.js';
export { Connection } from './api/Connection.js';
import './backends/local/handleKinds.js';

import { availableParallelism } from 'node:os';

/**
 * Number of CPUs this machine offers, as Python's `multiprocessing.cpu_count()`.
 *
 * @example
 * ```ts
 * new Pool(cpuCount());
 * ```
 */
export function cpuCount(): number {
  return availableParallelism();
}

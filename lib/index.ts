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
  type MapResult,
  type SpeculateOptions,
  type AsyncCallOptions,
  type AsyncMapOptions,
} from './api/Pool.js';
export { AsyncResult, type ResultCallbacks } from './api/AsyncResult.js';
export { Job, type JobItem } from './api/Job.js';
export type { EstimateOptions, JobEstimate } from './report/JobEstimator.js';
export { JobCost, type JobCostReport } from './report/JobCost.js';
export { ChunkTimeline, type ChunkRunRecord, type ChunkStatus, type ChunkTimelineInput } from './report/ChunkTimeline.js';
export { TimelineInputError } from './errors.js';
export type { JobItemError, JobResultsPage, JobState, JobStatus, JobSubmission } from './backend/JobService.js';
export { JobCancelledError, JobDetachedError, JobNotFoundError } from './errors.js';
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
  AbortError,
  InitializerError,
  ProtocolError,
  RuntimeError,
  BrokenBarrierError,
  IndexError,
  BackendMismatchError,
  NotSupportedError,
  Empty,
  Full,
  EOFError,
  BrokenPipeError,
  ProcessError,
  BrokenQueueError,
  AwsConfigError,
} from './errors.js';
export { Lock } from './api/Lock.js';
export { RLock } from './api/RLock.js';
export { Semaphore } from './api/Semaphore.js';
export { BoundedSemaphore } from './api/BoundedSemaphore.js';
export { Event } from './api/Event.js';
export { Condition } from './api/Condition.js';
export { Barrier, type BarrierOptions } from './api/Barrier.js';
export { Value } from './api/Value.js';
export { SharedArray, SharedArray as Array } from './api/SharedArray.js';
export type { SharedOptions, ValueOptions } from './api/synchronized.js';
export type { AcquireOptions, Acquirable } from './api/acquire.js';
export { withLock } from './api/withLock.js';
export { typecodes, type Typecode, type ElementOf } from './api/typecodes.js';
export { Process, currentProcess, parentProcess, activeChildren, type ProcessOptions, type ProcessInfo } from './api/Process.js';
export { Queue, type QueueWaitOptions } from './api/Queue.js';
export { JoinableQueue } from './api/JoinableQueue.js';
export { SimpleQueue } from './api/SimpleQueue.js';
export { Pipe } from './api/Pipe.js';
export { Connection } from './api/Connection.js';
export { isFanoutThread } from './runtime/bundledThread.js';
// The backends fanout ships, each registering itself and how its shared objects are re-bound.
import './backends/installBackends.js';

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
export { ProgressBar, type ProgressBarOptions, type ProgressStream } from './cli/ProgressBar.js';
export { ChunkTooLongError, NoWorkersError } from './errors.js';
export { BufferTooShort, MessageLengthError } from './errors.js';
export {
  FanoutClient,
  type FanoutClientOptions,
  type SubmittedJob,
  type CancelledJob,
  type UploadTicket,
  type ApiResultsPage,
  type ApiJobList,
  type StreamedResult,
  type JobWaitOptions,
} from './http/FanoutClient.js';
export { ApiError, ApiUnreachableError } from './errors.js';

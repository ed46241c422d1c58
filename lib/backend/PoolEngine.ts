import type { TransferListItem } from 'node:worker_threads';
import type { TaskRef } from '../codec/protocol.js';

/**
 * Receives what happens to a chunk. Indexes are the item's position in the chunk as the pool
 * made it (`chunk.base + i` for a chunk the engine split).
 */
export interface ChunkSink {
  /**
   * Results for items `from .. from + values.length - 1`; `errors` holds the failed ones;
   * `busyMs` is the time the worker spent on them.
   */
  onResults(from: number, values: unknown[], errors: ReadonlyMap<number, Error>, busyMs: number): void;
  /** Items `from .. to - 1` failed with `error`, without results. */
  onFailed(from: number, to: number, error: Error): void;
  /** The chunk (or a slice of it) was sent to the engine's thread number `thread`: for per-chunk records. */
  onStarted?(thread: number): void;
}

/**
 * A unit of work: `count` calls of one task, their arguments encoded back to back in `payload`.
 * The pool builds chunks (encoding at submit time) and an engine runs them somewhere.
 */
export interface Chunk {
  task: TaskRef;
  /** Each item is an argument array (apply, starmap) rather than a single argument (map). */
  spread: boolean;
  count: number;
  payload: Uint8Array;
  /** `count + 1` byte offsets: where each item starts in `payload`, then its length. */
  boundaries: Uint32Array;
  /** Resources of handles in the arguments (local backend: SharedArrayBuffers, MessagePorts). */
  attachments: unknown[];
  transfer: TransferListItem[];
  /** Index of this chunk's first item in the chunk the pool made (0 unless the engine split it). */
  base: number;
  /** How many tasks this chunk counts as for `maxTasksPerChild` (1 for a map chunk, as Python). */
  taskCount: number;
  sink: ChunkSink;
  /** Shared by a chunk and every slice the engine makes of it. */
  control: ChunkControl;
  /** The job the chunk is part of (an engine that records jobs), and its first item's position in the job's input. */
  job?: { id: string; first: number } | undefined;
}

/** What a job is, as the engine records it when it opens one. */
export interface JobDescription {
  task: TaskRef;
  total: number;
  chunksize: number;
  spread: boolean;
  source: 'pool' | 'api';
}

/** Whether a chunk is still wanted: shared by reference between a chunk and its slices. */
export interface ChunkControl {
  /** Nobody wants the results any more: drop the chunk if queued, ignore its results. */
  cancelled: boolean;
  /** Stop the chunk if it is running (on the local backend, by stopping its worker). */
  interrupt: boolean;
}

/** Counters an engine keeps, for progress reports and summaries. */
export interface PoolStats {
  /** Workers started so far (replacements included). */
  workersStarted: number;
  /** Chunks whose results all came back. */
  chunksCompleted: number;
  /** Items whose result came back (successful or not). */
  itemsCompleted: number;
  /** Milliseconds the workers spent running tasks, added up over workers. */
  busyMs: number;
  /**
   * Stragglers re-run (`speculate`): copies sent, and how many of those chunks the copy finished
   * first. The losing runs' cost is recorded beside the chunks (a job's duplicate runs).
   */
  speculation?: { copies: number; copiesWon: number };
  /** Requests the pool made to its backend's services, by kind (aws backend: `SQS.SendMessageBatch`...). */
  requests?: Record<string, number>;
}

/**
 * The part of a pool that a backend implements: it runs chunks on workers. Everything the
 * same on every backend (argument checks, chunking, ordering, AsyncResult) lives in `Pool`.
 *
 * @example
 * ```ts
 * const engine = backend.createPoolEngine({ processes: 4, taskModules: [] });
 * engine.submit(chunk);
 * ```
 */
export interface PoolEngine {
  /** How many chunks run at once. */
  readonly processes: number;
  /** Queues a chunk; its sink hears of its results. */
  submit(chunk: Chunk): void;
  /**
   * The pool no longer wants this chunk's results: drop it if queued; if it is running, stop
   * it when `interrupt` is true, or let it finish and ignore its results.
   */
  cancel(chunk: Chunk, interrupt: boolean): void;
  /** Runs what was submitted, then lets the workers go. */
  close(): void;
  /** Resolves when, after `close()` or `terminate()`, every worker is gone. */
  join(): Promise<void>;
  /** Stops every worker now; unfinished chunks fail with `error`. */
  terminate(error: Error): Promise<void>;
  stats(): PoolStats;
  /**
   * Starts recording a job (a map call) that outlives this process: returns its id, for the
   * chunks submitted next (`chunk.job`). An engine that records no jobs has no such method.
   */
  openJob?(description: JobDescription): string;
  /** Every chunk of the job has been submitted: the job's record is written once they are on their way. */
  sealJob?(jobId: string): void;
  /** Resolves once the job's chunks are all sent and its record written: the job no longer needs this process. */
  jobSent?(jobId: string): Promise<void>;
  /** Stops collecting the job's results here (its chunks fail with `JobDetachedError`); the job runs on. */
  detachJob?(jobId: string): void;
}

/**
 * When a chunk counts as a straggler: it has been out `after` times longer than the median of
 * its task's finished chunks (and at least `minMs`), once `minDone` of them have finished.
 */
export interface SpeculationSettings {
  after: number;
  minDone: number;
  minMs: number;
}

/** What a backend needs to start a pool's workers. */
export interface PoolEngineOptions {
  processes: number;
  /** Modules (file: URLs) every worker imports before running tasks. */
  taskModules: string[];
  initializer?: { task: TaskRef; args: Uint8Array; attachments: unknown[]; transfer: TransferListItem[] };
  maxTasksPerChild?: number;
  /** Re-run chunks that take far longer than their siblings (aws backend); checked by the Pool. */
  speculate?: SpeculationSettings;
  /** Per-worker memory limits (local backend). */
  resourceLimits?: import('node:worker_threads').ResourceLimits;
}

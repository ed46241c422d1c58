import type { ChunkRunRecord } from '../report/ChunkTimeline.js';

/**
 * Where a job is: `queued` (no chunk has finished yet), `running`, `succeeded` (every item
 * returned), `failed` (every chunk finished, and at least one item failed), `cancelled`.
 */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What a job is and how far it got, read from the job's records. */
export interface JobStatus {
  jobId: string;
  /** The registered name of the job's task. */
  task: string;
  status: JobState;
  /** Items in the job. */
  total: number;
  /** Items finished, successfully or not. */
  done: number;
  /** Items that failed (a task error, a crashed or too-long chunk). */
  failed: number;
  /** Chunk messages the job was sent as, and how many of them are finished. */
  chunks: number;
  chunksDone: number;
  chunksize: number;
  /** Each item is an argument array (`starmap`). */
  starmap: boolean;
  /** Who made the job: a Pool (`pool.mapAsync`, `pool.map`...) or the HTTP API. */
  source: 'pool' | 'api';
  /** ISO 8601 times: made, cancelled, last chunk finished (once every chunk has). */
  createdAt: string;
  cancelledAt?: string;
  finishedAt?: string;
}

/** One failed item of a job. */
export interface JobItemError {
  /** The item's position in the job's input. */
  index: number;
  /** The error's class name (`TypeError`, `WorkerCrashedError`...). */
  name: string;
  message: string;
}

/** One page of a job's results, in input order. */
export interface JobResultsPage {
  /** The input position of `results[0]`. */
  from: number;
  /** Decoded results; `null` where the item failed (its error is in `errors`). */
  results: unknown[];
  errors: JobItemError[];
  /**
   * Pass back to read on; absent once the page reaches the job's end. While the job runs, a page
   * stops at the first unfinished chunk, with `waiting` set: read `next` again later.
   */
  next?: string;
  /** The page stopped at a chunk that has not finished yet. */
  waiting: boolean;
}

/** A job to start: what `POST /jobs` takes. */
export interface JobSubmission {
  /** A task name registered in the process that submits (the API's bundle registers the worker's). */
  task: string;
  items: unknown[];
  /** Items per chunk message. @default automatic, as `pool.map`'s */
  chunksize?: number;
  /** Each item is an argument array. */
  starmap?: boolean;
}

/**
 * Jobs that outlive their caller: started by a Pool's map call or over the HTTP API, recorded in
 * the backend's store, and read, streamed or cancelled from any process by id. Errors:
 * `JobNotFoundError` for an unknown id, `InvalidArgumentError` for a bad page token or submission,
 * `UnknownTaskError` for a task this process has not registered.
 *
 * @example
 * ```ts
 * const { jobId } = await jobs.submit({ task: 'square', items: [1, 2, 3] });
 * const page = await jobs.results(jobId); // { from: 0, results: [1, 4, 9], errors: [], waiting: false }
 * ```
 */
export interface JobService {
  submit(request: JobSubmission): Promise<{ jobId: string; total: number }>;
  status(jobId: string): Promise<JobStatus>;
  /** Up to `maxItems` results from the token's place (the start when none). */
  results(jobId: string, options?: { next?: string | undefined; maxItems?: number | undefined }): Promise<JobResultsPage>;
  /** Marks the job cancelled: workers skip its chunks that have not started. Cancelling twice is not an error. */
  cancel(jobId: string): Promise<JobStatus>;
  /** Jobs, newest first. */
  list(options?: { limit?: number | undefined; next?: string | undefined }): Promise<{ jobs: JobStatus[]; next?: string }>;
  /** How each finished chunk ran (worker, thread, times, attempts), in chunk order. */
  chunkRuns(jobId: string): Promise<ChunkRunRecord[]>;
  /** Runs that lost the race to record their chunk (stragglers re-run, duplicated deliveries), where the backend keeps them. */
  duplicateRuns?(jobId: string): Promise<Array<Omit<ChunkRunRecord, 'status'>>>;
}

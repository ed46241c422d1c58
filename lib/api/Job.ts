import type { Backend } from '../backend/Backend.js';
import type { JobItemError, JobResultsPage, JobService, JobStatus } from '../backend/JobService.js';
import { defaultBackend } from '../backend/backends.js';
import { JobCancelledError, NotSupportedError, RemoteError, TimeoutError } from '../errors.js';
import { checkTimeout } from './checks.js';

/** One item of a job as it completes: its value, or why it failed. */
export type JobItem<R> = { index: number; value: R; error?: undefined } | { index: number; error: Error; value?: undefined };

/** While a job runs, results are looked for after this long, doubling up to the maximum while nothing new comes. */
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 2000;

/** A backend's jobs, or why it has none. */
function jobsOf(backend: Backend): JobService {
  if (!backend.jobs) {
    throw new NotSupportedError(
      `The ${backend.name} backend does not record jobs: jobs that outlive their caller (Job.attach, mp.job) need the aws ` +
        'backend (FANOUT_BACKEND=aws, or getContext("aws")), whose table keeps them.',
    );
  }
  return backend.jobs();
}

/**
 * A job that outlives its caller: the work of a Pool's `mapAsync` (or `map`, `starmapAsync`) on
 * the aws backend, or of `POST /jobs` on the HTTP API, recorded in the stack's table. Any process
 * with the table can attach to it by id, to wait for it, stream its results in input order
 * (`for await`) or as they complete, read its status, or cancel it.
 *
 * @example
 * ```ts
 * import { Job, Pool } from 'fanout';
 * import { square } from './tasks.js';
 *
 * // In one process:
 * const pool = new Pool();
 * const job = pool.mapAsync(square, [1, 2, 3]).job!;
 * await job.detach(); // sent and recorded; this process no longer waits for it
 * console.log(job.id);
 * await pool.close();
 *
 * // In another, later:
 * const again = Job.attach<number>(job.id);
 * await again.get(); // [1, 4, 9]
 * for await (const y of again) console.log(y);
 * ```
 */
export class Job<R = unknown> implements AsyncIterable<R> {
  /** @internal Made by {@link Job.attach}, or by a Pool for its map calls. */
  constructor(
    readonly id: string,
    private readonly service: JobService,
    private readonly whenSent: () => Promise<void> = () => Promise.resolve(),
    private readonly stopCollecting: () => void = () => {},
  ) {}

  /**
   * The job with this id, on the default backend (or `backend`). Nothing is read yet: an
   * unknown id fails the first call with `JobNotFoundError`.
   */
  static attach<R = unknown>(id: string, backend: Backend = defaultBackend()): Job<R> {
    return new Job<R>(id, jobsOf(backend));
  }

  /**
   * Resolves once every chunk of the job is on the queue and the job is recorded: from then on
   * it runs without this process. A job attached by id was sent long ago.
   */
  sent(): Promise<void> {
    return this.whenSent();
  }

  /**
   * Once the job is sent, stops collecting its results in this process (the call that made it
   * fails with `JobDetachedError`), so that the program can end while the job runs on. A job
   * attached by id collects nothing until asked: detaching it changes nothing.
   */
  async detach(): Promise<void> {
    await this.whenSent();
    this.stopCollecting();
  }

  /** Where the job is: `queued`, `running`, `succeeded`, `failed` or `cancelled`, with counts. */
  status(): Promise<JobStatus> {
    return this.service.status(this.id);
  }

  /**
   * Marks the job cancelled: workers skip its chunks that have not started (running ones finish,
   * their results kept). Whoever waits for it fails with `JobCancelledError`.
   */
  cancel(): Promise<JobStatus> {
    return this.service.cancel(this.id);
  }

  /**
   * Every result, in input order, once the job has finished. Rejects with the first failed
   * item's error (as `pool.map` does), or with `TimeoutError` after `timeout` ms (the job goes on).
   */
  async get(timeout?: number): Promise<R[]> {
    checkTimeout('job.get(timeout)', timeout);
    const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
    const results: R[] = [];
    for await (const value of this.ordered(deadline, timeout)) results.push(value);
    return results;
  }

  /** Results in input order as they become available; throws at the first failed item. */
  [Symbol.asyncIterator](): AsyncIterator<R> {
    return this.ordered(Infinity, undefined)[Symbol.asyncIterator]();
  }

  /** Items as their chunks complete, in any order, failures included (`error` set). */
  async *asCompleted(): AsyncGenerator<JobItem<R>, void, undefined> {
    const service = this.service as JobService & {
      finished?(jobId: string, known: ReadonlySet<number>): Promise<Array<{ chunk: number; page: JobResultsPage }>>;
    };
    if (!service.finished) {
      // A service without per-chunk reads streams in input order, which is one order of completion.
      for await (const item of this.pages(Infinity, undefined)) yield* this.items(item);
      return;
    }
    const known = new Set<number>();
    let delay = FIRST_POLL_MS;
    for (;;) {
      const status = await this.status();
      const fresh = await service.finished(this.id, known);
      for (const { chunk, page } of fresh) {
        known.add(chunk);
        yield* this.items(page);
      }
      if (known.size >= status.chunks && status.chunksDone >= status.chunks) return;
      delay = fresh.length > 0 ? FIRST_POLL_MS : Math.min(MAX_POLL_MS, delay * 2);
      await pause(delay);
    }
  }

  private async *ordered(deadline: number, timeout: number | undefined): AsyncGenerator<R, void, undefined> {
    for await (const page of this.pages(deadline, timeout)) {
      const failed = new Map(page.errors.map((error) => [error.index, error]));
      for (let i = 0; i < page.results.length; i++) {
        const error = failed.get(page.from + i);
        if (error) throw this.errorOf(error, (await this.status()).task);
        yield page.results[i] as R;
      }
    }
  }

  /** The job's pages in order, waiting (with back-off) where a chunk has not finished yet. */
  private async *pages(deadline: number, timeout: number | undefined): AsyncGenerator<JobResultsPage, void, undefined> {
    let next: string | undefined;
    let delay = FIRST_POLL_MS;
    for (;;) {
      const page = await this.service.results(this.id, { next });
      if (page.results.length > 0) yield page;
      if (page.next === undefined) return;
      next = page.next;
      if (!page.waiting) {
        delay = FIRST_POLL_MS;
        continue;
      }
      const wait = page.results.length > 0 ? FIRST_POLL_MS : (delay = Math.min(MAX_POLL_MS, delay * 2));
      if (Date.now() + wait > deadline)
        throw new TimeoutError(`Job '${this.id}' did not finish within ${timeout} ms; it goes on running.`, timeout ?? 0);
      await pause(wait);
    }
  }

  private *items(page: JobResultsPage): Generator<JobItem<R>, void, undefined> {
    const failed = new Map(page.errors.map((error) => [error.index, error]));
    for (let i = 0; i < page.results.length; i++) {
      const index = page.from + i;
      const error = failed.get(index);
      yield error ? { index, error: this.errorOf(error, '') } : { index, value: page.results[i] as R };
    }
  }

  private errorOf(error: JobItemError, task: string): Error {
    if (error.name === 'JobCancelledError') return new JobCancelledError(this.id, task);
    return new RemoteError({ name: error.name, message: error.message }, task || 'of this job');
  }
}

function pause(ms: number): Promise<void> {
  // Jittered, so that many waiters on one table do not read in step.
  return new Promise((resolve) => setTimeout(resolve, ms * (0.75 + Math.random() * 0.5)));
}

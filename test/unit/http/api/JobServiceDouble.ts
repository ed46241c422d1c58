/**
 * A test double of `JobService`, in memory: jobs finish at once, computing each item with the
 * task's function below; result pages hold whole chunks, as the aws service's do. Tests that use it say so in their names; the integration tests run the
 * API over the real aws service on the emulators.
 */
import type { JobResultsPage, JobService, JobStatus, JobSubmission } from '../../../../lib/backend/JobService.js';
import { InvalidArgumentError, JobNotFoundError, UnknownTaskError, ValueError } from '../../../../lib/errors.js';
import type { ChunkRunRecord } from '../../../../lib/report/ChunkTimeline.js';

export const DOUBLE_TASKS: Record<string, (...args: never[]) => unknown> = {
  square: (x: number) => {
    if (typeof x !== 'number') throw new TypeError(`square needs a number, got ${typeof x}`);
    return x * x;
  },
  add: (a: number, b: number) => a + b,
  echo: (x: unknown) => x,
  /** Returns what only the codec carries: the API turns it into JSON. */
  odd: (kind: string) => ODD_VALUES[kind],
  big: (bytes: number) => 'x'.repeat(bytes),
};

export const ODD_VALUES: Record<string, unknown> = {
  undefined: undefined,
  bigint: 12345678901234567890n,
  nan: NaN,
  infinity: -Infinity,
  negativeZero: -0,
  map: new Map<unknown, unknown>([
    ['a', 1],
    [2, new Set([3n])],
  ]),
  date: new Date(Date.UTC(2026, 11, 2)),
  bytes: new Uint8Array([0, 255]),
  nested: { gone: undefined, keep: [undefined, NaN] },
};

interface StoredJob {
  status: JobStatus;
  results: unknown[];
  errors: JobResultsPage['errors'];
}

export class JobServiceDouble implements JobService {
  readonly jobs = new Map<string, StoredJob>();
  readonly calls: string[] = [];
  /** Thrown by every call when set: an unexpected failure of the backend. */
  failWith: Error | undefined;
  private sequence = 0;

  constructor(private readonly pageSize = 100) {}

  async submit(request: JobSubmission): Promise<{ jobId: string; total: number }> {
    this.check('submit');
    const fn = DOUBLE_TASKS[request.task];
    if (!fn) throw new UnknownTaskError(request.task, Object.keys(DOUBLE_TASKS).sort());
    if (request.chunksize !== undefined && !(Number.isSafeInteger(request.chunksize) && request.chunksize >= 1)) {
      throw new InvalidArgumentError('chunksize', request.chunksize, 'a whole number, 1 or more');
    }
    if (request.starmap && request.items.some((item) => !Array.isArray(item)))
      throw new ValueError('starmap items must be arrays');
    const jobId = (Date.now().toString(36).padStart(10, '0') + String(this.sequence++).padStart(16, '0')).slice(0, 26);
    const results: unknown[] = [];
    const errors: JobResultsPage['errors'] = [];
    request.items.forEach((item, index) => {
      try {
        results.push(request.starmap ? fn(...(item as never[])) : fn(item as never));
      } catch (error) {
        results.push(null);
        errors.push({ index, name: (error as Error).name, message: (error as Error).message });
      }
    });
    const total = request.items.length;
    const chunksize = request.chunksize ?? 10;
    const chunks = Math.ceil(total / chunksize);
    this.jobs.set(jobId, {
      results,
      errors,
      status: {
        jobId,
        task: request.task,
        status: errors.length > 0 ? 'failed' : 'succeeded',
        total,
        done: total,
        failed: errors.length,
        chunks,
        chunksDone: chunks,
        chunksize,
        starmap: request.starmap ?? false,
        source: 'api',
        createdAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
      },
    });
    return { jobId, total };
  }

  async status(jobId: string): Promise<JobStatus> {
    this.check(`status ${jobId}`);
    return { ...this.job(jobId).status };
  }

  async results(
    jobId: string,
    options: { next?: string | undefined; maxItems?: number | undefined } = {},
  ): Promise<JobResultsPage> {
    this.check(`results ${jobId} ${options.next ?? '-'} ${options.maxItems ?? '-'}`);
    const job = this.job(jobId);
    let from = 0;
    if (options.next !== undefined) {
      from = /^p\d+$/.test(options.next) ? Number(options.next.slice(1)) : NaN;
      if (!(from > 0 && from < job.results.length))
        throw new InvalidArgumentError('next', options.next, 'a page token of this job');
    }
    // As the aws service does: whole chunks, until the page holds maxItems or more.
    const chunksize = job.status.chunksize;
    const maxItems = options.maxItems ?? this.pageSize;
    let to = from;
    while (to < job.results.length && to - from < maxItems)
      to = Math.min(job.results.length, (Math.floor(to / chunksize) + 1) * chunksize);
    const page: JobResultsPage = {
      from,
      results: job.results.slice(from, to),
      errors: job.errors.filter((error) => error.index >= from && error.index < to),
      waiting: false,
    };
    if (to < job.results.length) page.next = `p${to}`;
    return page;
  }

  async cancel(jobId: string): Promise<JobStatus> {
    this.check(`cancel ${jobId}`);
    const job = this.job(jobId);
    job.status = { ...job.status, status: 'cancelled', cancelledAt: new Date().toISOString() };
    return { ...job.status };
  }

  async list(
    options: { limit?: number | undefined; next?: string | undefined } = {},
  ): Promise<{ jobs: JobStatus[]; next?: string }> {
    this.check(`list ${options.limit ?? '-'} ${options.next ?? '-'}`);
    const all = [...this.jobs.values()].map((job) => job.status).sort((a, b) => (a.jobId < b.jobId ? 1 : -1));
    let from = 0;
    if (options.next !== undefined) {
      from = /^l\d+$/.test(options.next) ? Number(options.next.slice(1)) : NaN;
      if (!(from > 0 && from < all.length)) throw new InvalidArgumentError('next', options.next, 'a page token of the job list');
    }
    const to = Math.min(all.length, from + (options.limit ?? 50));
    return to < all.length ? { jobs: all.slice(from, to), next: `l${to}` } : { jobs: all.slice(from, to) };
  }

  async chunkRuns(jobId: string): Promise<ChunkRunRecord[]> {
    this.check(`chunkRuns ${jobId}`);
    this.job(jobId);
    return [];
  }

  private job(jobId: string): StoredJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new JobNotFoundError(jobId, 'the test double');
    return job;
  }

  private check(call: string): void {
    this.calls.push(call);
    if (this.failWith) throw this.failWith;
  }
}

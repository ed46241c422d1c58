import type { JobItemError, JobResultsPage, JobService, JobState, JobStatus, JobSubmission } from '../../backend/JobService.js';
import { defaultChunksize, makeChunk } from '../../backend/chunks.js';
import { ChunkEncoder } from '../../api/ChunkEncoder.js';
import { checkInteger } from '../../api/checks.js';
import { decodeFrame, type ParentBoundMessage } from '../../codec/protocol.js';
import { ValueDecoder } from '../../codec/ValueDecoder.js';
import { InvalidArgumentError, JobNotFoundError, UnknownTaskError, ValueError } from '../../errors.js';
import type { ChunkRunRecord } from '../../report/ChunkTimeline.js';
import { fromFailureInfo } from '../../runtime/errorInfo.js';
import { reviveHandle } from '../../runtime/handles.js';
import { TaskRegistry } from '../../runtime/TaskRegistry.js';
import { AwsPoolEngine } from './AwsPoolEngine.js';
import type { AwsSession } from './AwsSession.js';
import type { JobRecord } from './JobStore.js';
import { JOB_ID_PATTERN } from './jobIds.js';
import type { ChunkOutline, ChunkRecord, ChunkRun } from './ResultTable.js';

/** Results per page unless asked: a page of a thousand small values is well under the API's 6 MB. */
const DEFAULT_PAGE_ITEMS = 1000;
const MAX_PAGE_ITEMS = 10_000;
/** A page stops growing past this many bytes of result frames (the API's response limit is 6 MB). */
const MAX_PAGE_FRAME_BYTES = 3 * 1024 * 1024;
const DEFAULT_LIST_LIMIT = 20;
const MAX_LIST_LIMIT = 100;
/** Chunk records read per Query page while collecting results. */
const RECORDS_PER_QUERY = 100;
/** Chunks per job submitted without a chunksize: as pool.map's default over this many workers. */
const DEFAULT_SUBMIT_WORKERS = 64;
/** Job items kept in memory for reading results: what they say of a job's chunks never changes. */
const CACHED_JOBS = 1000;

/**
 * Jobs on the aws backend: a job is a run's range of chunk records (`run#<run>`, chunks
 * `first ..< first + chunks`) and one item in the table's `jobs` partition saying so. Both a
 * Pool's map calls and {@link submit} (the HTTP API's `POST /jobs`) make them, so any process
 * with the table can follow, read or cancel a job by id.
 *
 * @example
 * ```ts
 * const jobs = new AwsJobService(() => backend.session());
 * const { jobId } = await jobs.submit({ task: 'square', items: [1, 2, 3] });
 * await jobs.status(jobId); // { status: 'queued', total: 3, done: 0, ... }
 * ```
 */
export class AwsJobService implements JobService {
  /** Recently read job items, by id, for the reads that use only their fixed fields (a results poll: one Query, no GetItem). */
  private readonly layouts = new Map<string, JobRecord>();

  constructor(
    private readonly loadSession: () => Promise<AwsSession>,
    /** Workers a submitted job is chunked for, when it names no chunksize. */
    private readonly workers: number = DEFAULT_SUBMIT_WORKERS,
  ) {}

  async submit(request: JobSubmission): Promise<{ jobId: string; total: number }> {
    const { task, items, chunksize, starmap = false } = request;
    if (typeof task !== 'string' || task === '') throw new InvalidArgumentError('task', task, 'the name of a registered task');
    if (!TaskRegistry.current.get(task)) throw new UnknownTaskError(task, TaskRegistry.current.names());
    if (!Array.isArray(items)) throw new InvalidArgumentError('items', items, 'an array');
    checkInteger('chunksize', chunksize, 1);
    if (typeof starmap !== 'boolean') throw new InvalidArgumentError('starmap', starmap, 'true or false');
    if (starmap) {
      const at = items.findIndex((item) => !Array.isArray(item));
      if (at >= 0) throw new ValueError(`starmap: items[${at}] must be an array of arguments; got ${typeof items[at]}.`);
    }
    const size = chunksize ?? defaultChunksize(items.length, this.workers);
    const engine = new AwsPoolEngine({ processes: this.workers, taskModules: [] }, this.loadSession, undefined, {
      detached: true,
    });
    const ref = { name: task };
    const jobId = engine.openJob({ task: ref, total: items.length, chunksize: size, spread: starmap, source: 'api' });
    let failure: Error | undefined;
    const encoder = new ChunkEncoder(starmap, 'aws');
    for (let start = 0; start < items.length; start += size) {
      const end = Math.min(start + size, items.length);
      encoder.addAll(items, start, end, start);
      const chunk = makeChunk(ref, starmap, encoder.take(), end - start, {
        onResults() {},
        onFailed: (_from, _to, error) => void (failure ??= error),
      });
      chunk.taskCount = 1;
      chunk.job = { id: jobId, first: start };
      engine.submit(chunk);
    }
    engine.sealJob(jobId);
    engine.close();
    const sent = engine.jobSent(jobId);
    await engine.join();
    await sent;
    if (failure) throw failure;
    return { jobId, total: items.length };
  }

  async status(jobId: string): Promise<JobStatus> {
    const { job, session } = await this.job(jobId);
    return statusOf(job, await this.outlines(session, job));
  }

  async results(
    jobId: string,
    options: { next?: string | undefined; maxItems?: number | undefined } = {},
  ): Promise<JobResultsPage> {
    checkInteger('maxItems', options.maxItems, 1);
    const maxItems = Math.min(options.maxItems ?? DEFAULT_PAGE_ITEMS, MAX_PAGE_ITEMS);
    const { job, session } = await this.job(jobId, true);
    const [firstChunk, item] = options.next === undefined ? [0, 0] : parseToken(options.next, job);
    let chunk = firstChunk;
    const page: JobResultsPage = { from: item, results: [], errors: [], waiting: false };
    let frameBytes = 0;
    const last = job.first + job.chunks - 1;
    const full = () => page.results.length >= maxItems || frameBytes >= MAX_PAGE_FRAME_BYTES;
    reading: while (chunk < job.chunks && !full()) {
      const to = Math.min(last, job.first + chunk + RECORDS_PER_QUERY - 1);
      let cursor: Awaited<ReturnType<AwsSession['table']['queryResults']>>['next'];
      do {
        const { records, next } = await session.table.queryResults(job.run, job.first + chunk, to, cursor);
        for (const record of records) {
          // Not finished yet: the page ends before it (records are in chunk order, chunks in item order).
          if (record.chunk !== job.first + chunk) break reading;
          frameBytes += await this.addRecord(session, job, record, page);
          chunk++;
          if (full()) break reading;
        }
        cursor = next;
      } while (cursor);
      if (job.first + chunk <= to) break; // The range ended at a gap.
    }
    if (chunk < job.chunks) {
      page.next = `c${chunk}i${page.from + page.results.length}`;
      page.waiting = !full();
    }
    return page;
  }

  async cancel(jobId: string): Promise<JobStatus> {
    checkJobId(jobId);
    const session = await this.loadSession();
    const job = await session.jobs.cancel(jobId);
    if (!job) throw new JobNotFoundError(jobId, `table ${session.tableName}`);
    return statusOf(job, await this.outlines(session, job));
  }

  async list(
    options: { limit?: number | undefined; next?: string | undefined } = {},
  ): Promise<{ jobs: JobStatus[]; next?: string }> {
    checkInteger('limit', options.limit, 1);
    if (options.next !== undefined && !JOB_ID_PATTERN.test(options.next))
      throw new InvalidArgumentError('next', options.next, 'the token of a previous page of the job list');
    const session = await this.loadSession();
    const { jobs, last } = await session.jobs.list(Math.min(options.limit ?? DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT), options.next);
    const statuses = await Promise.all(jobs.map(async (job) => statusOf(job, await this.outlines(session, job))));
    return last ? { jobs: statuses, next: last } : { jobs: statuses };
  }

  async chunkRuns(jobId: string): Promise<ChunkRunRecord[]> {
    const { job, session } = await this.job(jobId, true);
    if (job.chunks === 0) return [];
    const runs = await session.table.chunkRuns(job.run, { from: job.first, to: job.first + job.chunks - 1 });
    // Numbered within the job, as its pages and timeline show them.
    return runs.map((run) => ({ ...run, chunk: run.chunk - job.first }));
  }

  /**
   * The runs of a job's chunks that lost the race to record them (a straggler's original or its
   * copy, a duplicated delivery): paid for, and not in the results; numbered within the job.
   */
  async duplicateRuns(jobId: string): Promise<Array<ChunkRun & { chunk: number }>> {
    const { job, session } = await this.job(jobId, true);
    if (job.chunks === 0) return [];
    const runs = await session.table.duplicateRuns(job.run, job.first, job.first + job.chunks - 1);
    return runs.map((run) => ({ ...run, chunk: run.chunk - job.first }));
  }

  /**
   * The chunks of a job that have finished and are not in `known`, each as a page of its results:
   * what `job.asCompleted()` streams. One Query of outlines, then one per new run of chunks.
   */
  async finished(jobId: string, known: ReadonlySet<number>): Promise<Array<{ chunk: number; page: JobResultsPage }>> {
    const { job, session } = await this.job(jobId, true);
    const fresh = (await this.outlines(session, job))
      .map((outline) => outline.chunk - job.first)
      .filter((chunk) => !known.has(chunk));
    const pages: Array<{ chunk: number; page: JobResultsPage }> = [];
    for (const chunk of fresh) {
      const { records } = await session.table.queryResults(job.run, job.first + chunk, job.first + chunk);
      const record = records[0];
      if (!record) continue;
      const page: JobResultsPage = { from: record.item ?? 0, results: [], errors: [], waiting: false };
      await this.addRecord(session, job, record, page);
      pages.push({ chunk, page });
    }
    return pages;
  }

  /** A job's item; `layoutOnly`: a remembered copy will do (its run, range, task and size never change). */
  private async job(jobId: string, layoutOnly = false): Promise<{ job: JobRecord; session: AwsSession }> {
    checkJobId(jobId);
    const session = await this.loadSession();
    const known = layoutOnly ? this.layouts.get(jobId) : undefined;
    if (known) return { job: known, session };
    const job = await session.jobs.get(jobId);
    if (!job) throw new JobNotFoundError(jobId, `table ${session.tableName}`);
    this.layouts.delete(jobId);
    this.layouts.set(jobId, job);
    if (this.layouts.size > CACHED_JOBS) this.layouts.delete(this.layouts.keys().next().value!);
    return { job, session };
  }

  private async outlines(session: AwsSession, job: JobRecord): Promise<ChunkOutline[]> {
    if (job.chunks === 0) return [];
    return session.table.outlines(job.run, job.first, job.first + job.chunks - 1);
  }

  /** Adds one chunk's results (or failure) to a page; resolves to the bytes of its frame. */
  private async addRecord(session: AwsSession, job: JobRecord, record: ChunkRecord, page: JobResultsPage): Promise<number> {
    // Records are read in item order: where the record does not say, it starts where the page is.
    const from = record.item ?? page.from + page.results.length;
    const count = record.items ?? 0;
    const failAll = (name: string, message: string) => {
      for (let i = 0; i < count; i++) {
        page.results.push(null);
        page.errors.push({ index: from + i, name, message });
      }
    };
    if (record.status === 'cancelled') {
      addSkipped(page, from, count, job);
      return 0;
    }
    if (record.status === 'dead') {
      failAll('WorkerCrashedError', record.reason ?? 'The chunk crashed its worker on every delivery.');
      return 0;
    }
    if (record.status === 'tooLong') {
      failAll('ChunkTooLongError', record.reason ?? 'The chunk cannot finish within one invocation of the worker.');
      return 0;
    }
    const frame = record.frame ?? (record.frameKey ? await session.payloads.get(record.frameKey) : undefined);
    if (!frame) {
      failAll('ProtocolError', `The record of chunk ${record.chunk - job.first} has no result.`);
      return 0;
    }
    const { message, payload } = decodeFrame(frame);
    const reply = message as ParentBoundMessage;
    if (reply.type === 'chunkFailed') {
      const error = fromFailureInfo(reply.error, job.task);
      failAll(error.name, error.message);
      return frame.length;
    }
    if (reply.type !== 'results') {
      failAll('ProtocolError', `Unexpected '${reply.type}' record for chunk ${record.chunk - job.first}.`);
      return frame.length;
    }
    const values = new ValueDecoder(payload, [], reviveHandle).readMany(reply.count);
    const failed = new Map<number, JobItemError>();
    for (const [index, itemError] of reply.errors) {
      const described =
        'remote' in itemError
          ? { name: itemError.remote.name, message: itemError.remote.message }
          : (({ name, message }) => ({ name, message }))(fromFailureInfo(itemError.failure, job.task));
      failed.set(index, { index: from + index, ...described });
    }
    for (let i = 0; i < values.length; i++) {
      const error = failed.get(i);
      page.results.push(error ? null : values[i]);
      if (error) page.errors.push(error);
    }
    return frame.length;
  }
}

/** The status of a job from its item and its chunk records' outlines. */
function statusOf(job: JobRecord, outlines: readonly ChunkOutline[]): JobStatus {
  let done = 0;
  let failed = 0;
  let skipped = 0;
  let lastEnd = 0;
  for (const outline of outlines) {
    const items = outline.items ?? 0;
    if (outline.status === 'cancelled') skipped += items;
    else {
      done += items;
      failed += outline.itemErrors ?? 0;
    }
    lastEnd = Math.max(lastEnd, outline.endMs ?? 0);
  }
  const chunksDone = outlines.length;
  const finished = chunksDone === job.chunks;
  let state: JobState;
  // A job cancelled after its last chunk finished keeps the outcome it had.
  if (job.cancelledMs !== undefined && !finished) state = 'cancelled';
  else if (finished && failed > 0) state = 'failed';
  else if (finished && skipped > 0) state = 'cancelled';
  else if (finished) state = 'succeeded';
  else state = chunksDone > 0 ? 'running' : 'queued';
  const status: JobStatus = {
    jobId: job.jobId,
    task: job.task,
    status: state,
    total: job.total,
    done,
    failed,
    chunks: job.chunks,
    chunksDone,
    chunksize: job.chunksize,
    starmap: job.starmap,
    source: job.source,
    createdAt: new Date(job.createdMs).toISOString(),
  };
  if (job.cancelledMs !== undefined) status.cancelledAt = new Date(job.cancelledMs).toISOString();
  if (finished && lastEnd > 0) status.finishedAt = new Date(lastEnd).toISOString();
  return status;
}

function addSkipped(page: JobResultsPage, from: number, count: number, job: JobRecord): void {
  for (let i = 0; i < count; i++) {
    page.results.push(null);
    page.errors.push({
      index: from + i,
      name: 'JobCancelledError',
      message: `Job '${job.jobId}' was cancelled before this item ran.`,
    });
  }
}

/** A page token: the chunk to read from and its first item (`c12i3000`). */
function parseToken(token: string, job: JobRecord): [chunk: number, item: number] {
  const match = typeof token === 'string' ? /^c(\d{1,9})i(\d{1,12})$/.exec(token) : null;
  const chunk = match ? Number(match[1]) : -1;
  const item = match ? Number(match[2]) : -1;
  if (chunk < 0 || chunk > job.chunks || item > job.total)
    throw new InvalidArgumentError('next', token, `the "next" token of a previous page of job '${job.jobId}'`);
  return [chunk, item];
}

function checkJobId(jobId: string): void {
  if (typeof jobId !== 'string' || !JOB_ID_PATTERN.test(jobId))
    throw new JobNotFoundError(String(jobId), 'any table (a job id is 26 lower-case letters and digits)');
}

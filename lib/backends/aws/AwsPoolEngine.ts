import type { Message, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import type {
  Chunk,
  JobDescription,
  PoolEngine,
  PoolEngineOptions,
  PoolStats,
  SpeculationSettings,
} from '../../backend/PoolEngine.js';
import { failChunk } from '../../backend/chunks.js';
import { decodeFrame, encodeFrame, type JobChunkMessage, type JobSetup, type ParentBoundMessage } from '../../codec/protocol.js';
import { ValueDecoder } from '../../codec/ValueDecoder.js';
import {
  ChunkTooLongError,
  InvalidArgumentError,
  JobCancelledError,
  JobDetachedError,
  NoWorkersError,
  ProtocolError,
  RemoteError,
  WorkerCrashedError,
} from '../../errors.js';
import { fromFailureInfo } from '../../runtime/errorInfo.js';
import { reviveHandle } from '../../runtime/handles.js';
import {
  CHUNK_ATTRIBUTE,
  INLINE_CHUNK_BYTES,
  RUN_ATTRIBUTE,
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_REQUEST_BYTES,
  TARGET_MESSAGE_BYTES,
  argumentsKey,
  decodeChunkBody,
} from './chunkMessages.js';
import type { AwsSession } from './AwsSession.js';
import { RequestCounter } from './RequestCounter.js';
import type { ChunkRecord, ResultTable } from './ResultTable.js';
import { newJobId } from './jobIds.js';
import { errorText } from '../../util/errorText.js';
import { median } from '../../util/median.js';

/** First look for results this soon after sending; then back off while nothing new comes. */
const FIRST_POLL_MS = 15;
const MIN_POLL_MS = 10;
const MAX_POLL_MS = 500;
const POLL_BACKOFF = 2;
/** Outstanding chunks this close together are read in one range; at most this many ranges per poll. */
const RANGE_MERGE_GAP = 16;
const MAX_QUERY_RANGES = 4;
/** Consecutive failed polls before the pool gives up on its outstanding work (never hang). */
const MAX_POLL_FAILURES = 6;
/** Finished parts' times kept per task, for the median a straggler is measured against. */
const FINISHED_TIMES_KEPT = 200;
/** SendMessageBatch and S3 requests in flight at once. */
const SEND_CONCURRENCY = 16;
/** Resends of entries SQS refused in a batch. */
const MAX_SEND_ATTEMPTS = 4;
/** Room for a message's attributes and the request's framing within the 1 MiB batch limit. */
const ENTRY_OVERHEAD_BYTES = 256;
/**
 * With no result for this long, the pool looks at the queue (one GetQueueAttributes) to see
 * whether anyone receives its chunks; while someone does, it looks less and less often.
 */
const NO_WORKER_FIRST_CHECK_MS = 10_000;
const NO_WORKER_MAX_CHECK_MS = 60_000;
/** How long a call waits with nobody receiving its chunks before it fails, unless configured. */
export const DEFAULT_NO_WORKER_TIMEOUT_MS = 120_000;
/** The environment variable that sets it (milliseconds; 0 waits for ever, with the warning only). */
export const NO_WORKER_TIMEOUT_VARIABLE = 'FANOUT_NO_WORKER_TIMEOUT_MS';

/** Options of {@link AwsPoolEngine} beyond the pool's own. */
export interface AwsPoolEngineOptions {
  /**
   * Milliseconds a call waits while nobody receives its chunks (they sit on the queue, none in
   * flight) before it fails with `NoWorkersError`; 0 waits for ever. A warning comes first, after
   * about 10 s. @default `FANOUT_NO_WORKER_TIMEOUT_MS`, else 120,000
   */
  noWorkerTimeout?: number;
  /**
   * Send chunks and record jobs, but collect no results: a job submitted for others to read (the
   * HTTP API's). A chunk is done once it is on the queue; its sink hears only of failures to send.
   */
  detached?: boolean;
}

/** A job this engine records: its chunks (parts) are numbered `first ..= last` in the run. */
interface OpenJob {
  id: string;
  description: JobDescription;
  createdMs: number;
  first: number | undefined;
  last: number | undefined;
  parts: Part[];
  /** Settles when its item is written and every part sent (or one failed). */
  sent: Promise<void> | undefined;
  /** Settles when its item is written. */
  written: Promise<void> | undefined;
}

/** One SQS message's worth of a chunk: items `from .. from + count - 1` of it. */
interface Part {
  number: number;
  chunk: Chunk;
  from: number;
  count: number;
  payload: Uint8Array;
  state: 'queued' | 'sending' | 'sent' | 'done';
  /** Nobody wants its result any more (its chunk failed or was cancelled while it was being sent). */
  dropped?: boolean;
  /** The job it belongs to, if its engine records one. */
  job?: OpenJob;
  /** Waiting for it to be sent (a job's `jobSent`), and what stopped it being sent. */
  onSent?: Array<(error: Error | undefined) => void>;
  failure?: Error;
  /** When it went on the queue (`performance.now()`), what it said, and where its payload went if not inline: to copy it. */
  sentAt?: number;
  message?: JobChunkMessage;
  payloadKey?: string;
  /** A speculative copy of it has been sent (once at most). */
  copied?: boolean;
  /** Its job was detached while it was being sent: once sent, nobody here wants its result (and it is not cancelled). */
  detached?: boolean;
}

/**
 * Runs a pool's chunks on AWS: each chunk (split to fit a 64 KB message when its items allow)
 * becomes an SQS message — sent ten at a time with SendMessageBatch, its payload in S3 when too
 * big — that a worker (Lambda, or `fanout worker`) runs and records once in DynamoDB. Results
 * are collected by querying the run's partition with adaptive back-off; the dead-letter queue is
 * watched so that a chunk that keeps crashing its worker fails its job instead of hanging.
 * Cancelled chunks are marked in the table, and workers skip them.
 *
 * @example
 * ```ts
 * const engine = new AwsPoolEngine({ processes: 64, taskModules: [] }, () => AwsSession.open(config));
 * engine.submit(chunk);
 * ```
 */
export class AwsPoolEngine implements PoolEngine {
  readonly processes: number;
  /** This pool's run: the partition of its records, and the prefix of its objects. */
  readonly run = randomBytes(9).toString('base64url');
  private readonly setup: JobSetup | undefined;
  private session: Promise<AwsSession> | undefined;
  private broken: Error | undefined;
  private terminatedWith: Error | undefined;
  private closed = false;
  private nextNumber = 0;
  private readonly outbox: Part[] = [];
  private flushScheduled = false;
  /** Parts sent and not yet answered, by number (in number order). */
  private readonly outstanding = new Map<number, Part>();
  private readonly partsOf = new Map<Chunk, Part[]>();
  private readonly cancelQueue: Part[] = [];
  /** Requests in flight (sends, cancellations): join waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly idleWaiters: Array<() => void> = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private pollDue = Infinity;
  private polling = false;
  private pollDelay = MIN_POLL_MS;
  private pollFailures = 0;
  private deadLetterWatch: AbortController | undefined;
  /** Set once the task queue turns out to have no dead-letter queue. */
  private noDeadLetterQueue = false;
  private retentionSeconds = 86_400;
  private readonly noWorkerTimeoutMs: number;
  /** When the next look at the queue for workers is due (`performance.now()`). */
  private noWorkerCheckDue = 0;
  /** The last time someone was seen receiving (a result came in, a look saw messages in flight), or the work began. */
  private lastSeenReceiving = 0;
  private noWorkerTimer: NodeJS.Timeout | undefined;
  private noWorkerCheckMs = NO_WORKER_FIRST_CHECK_MS;
  private warnedNoWorkers = false;
  private readonly statistics: PoolStats = { workersStarted: 0, chunksCompleted: 0, itemsCompleted: 0, busyMs: 0 };
  private readonly detached: boolean;
  private readonly speculation: SpeculationSettings | undefined;
  /** By task: how long its finished parts took from sent to recorded (the last ones), and how many finished. */
  private readonly finishedMs = new Map<string, number[]>();
  private readonly finishedCount = new Map<string, number>();
  private readonly speculationStats = { copies: 0, copiesWon: 0 };
  private readonly jobs = new Map<string, OpenJob>();

  constructor(
    options: PoolEngineOptions,
    /** The backend's session: shared by its pools, opened on first use. */
    private readonly loadSession: () => Promise<AwsSession>,
    /** Counts the pool's AWS requests (several pools may share one). */
    private readonly counter: RequestCounter = new RequestCounter(),
    engineOptions: AwsPoolEngineOptions = {},
  ) {
    this.processes = options.processes;
    this.noWorkerTimeoutMs = noWorkerTimeout(engineOptions.noWorkerTimeout);
    this.detached = engineOptions.detached === true;
    this.speculation = options.speculate;
    const setup: JobSetup = { taskModules: options.taskModules };
    if (options.initializer) {
      setup.initializer = options.initializer.task;
      setup.initArgs = options.initializer.args;
    }
    if (options.maxTasksPerChild !== undefined) setup.maxTasksPerChild = options.maxTasksPerChild;
    const trivial = setup.taskModules.length === 0 && !setup.initializer && setup.maxTasksPerChild === undefined;
    this.setup = trivial ? undefined : setup;
  }

  submit(chunk: Chunk): void {
    const refusal = this.broken ?? this.terminatedWith;
    if (refusal) return failChunk(chunk, refusal);
    const parts = this.split(chunk);
    this.partsOf.set(chunk, parts);
    if (chunk.job) this.addToJob(chunk.job.id, parts);
    this.outbox.push(...parts);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Chunks submitted in the same tick travel in the same batches. Every request of the pool
      // descends from a flush (or a terminate), so that is where they are attributed to it.
      this.counter.attribute(() => setImmediate(() => this.flush()));
    }
  }

  /** Running chunks cannot be interrupted on a remote worker: `interrupt` or not, they are marked cancelled. */
  cancel(chunk: Chunk, _interrupt: boolean): void {
    chunk.control.cancelled = true;
    const parts = this.partsOf.get(chunk);
    if (!parts) return;
    this.partsOf.delete(chunk);
    for (const part of parts) this.dropPart(part);
    this.afterChange();
  }

  close(): void {
    this.closed = true;
    this.afterChange();
  }

  async join(): Promise<void> {
    while (!this.isIdle()) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.closed) await this.shutDown();
  }

  async terminate(error: Error): Promise<void> {
    this.closed = true;
    this.terminatedWith ??= error;
    const unfinished = [...this.partsOf.keys()];
    for (const chunk of unfinished) this.failChunk(chunk, error, 0, false);
    if (this.session && this.nextNumber > 0) {
      // Workers skip every chunk of a cancelled run, sent or still queued; the run's jobs read as cancelled.
      const sealed = [...this.jobs.values()].filter((job) => job.sent);
      const marking = this.session
        .then(({ table, jobs }) =>
          this.counter.attribute(() =>
            Promise.all([
              table.cancelRun(this.run, this.expiresAt()),
              ...sealed.map((job) => job.written!.then(() => jobs.cancel(job.id)).catch(() => {})),
            ]),
          ),
        )
        .catch(() => {
          // The run's chunks still finish and are recorded; nobody waits for them.
        });
      this.track(marking);
    }
    await this.join();
  }

  stats(): PoolStats {
    return {
      ...this.statistics,
      requests: this.counter.snapshot().requests,
      ...(this.speculation ? { speculation: { ...this.speculationStats } } : {}),
    };
  }

  openJob(description: JobDescription): string {
    const id = newJobId();
    this.jobs.set(id, {
      id,
      description,
      createdMs: Date.now(),
      first: undefined,
      last: undefined,
      parts: [],
      sent: undefined,
      written: undefined,
    });
    return id;
  }

  /**
   * Writes the job's item once its chunks are all made (their numbers are known at submit),
   * before any of them can finish unrecorded... in parallel with their sends: a reader that finds
   * the item finds every chunk's number in it, recorded or not yet.
   */
  sealJob(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job || job.sent) return;
    const parts = job.parts;
    const sentParts = Promise.all(parts.map((part) => this.whenSent(part)));
    const written = this.connect().then((session) =>
      this.counter.attribute(() =>
        session.jobs.put({
          jobId,
          task: job.description.task.name,
          module: job.description.task.module,
          total: job.description.total,
          chunksize: job.description.chunksize,
          starmap: job.description.spread,
          source: job.description.source,
          run: this.run,
          first: job.first ?? 0,
          chunks: parts.length,
          createdMs: job.createdMs,
          requests: this.detached ? this.counter.snapshot().requests : undefined,
          expiresAt: this.expiresAt(),
        }),
      ),
    );
    job.written = written;
    job.sent = Promise.all([written, sentParts]).then(() => {});
    // Whoever waits for the job hears of a failure; nobody waiting is not an unhandled rejection.
    job.sent.catch(() => {});
    this.track(job.sent.catch(() => {}));
  }

  jobSent(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job?.sent) return Promise.reject(new ProtocolError(`Job '${jobId}' was not sealed by this engine.`));
    return job.sent;
  }

  /** Where a part's first item is in its job's input. */
  private itemOf(part: Part): number {
    return (part.chunk.job?.first ?? 0) + part.chunk.base + part.from;
  }

  detachJob(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    const error = new JobDetachedError(jobId);
    const chunks = [...new Set(job.parts.map((part) => part.chunk))].filter((chunk) => this.partsOf.has(chunk));
    // Every part is forgotten before any sink hears: the call's failure cancels its other chunks,
    // and those must already be gone (forgotten, not cancelled: the workers run them, and the
    // job's readers collect them).
    for (const chunk of chunks) {
      for (const part of this.partsOf.get(chunk)!) {
        if (part.state === 'sent') this.outstanding.delete(part.number);
        if (part.state !== 'sending') part.state = 'done';
        else part.detached = true;
      }
      this.partsOf.delete(chunk);
    }
    for (const chunk of chunks) chunk.sink.onFailed(chunk.base, chunk.base + chunk.count, error);
    this.afterChange();
  }

  private addToJob(jobId: string, parts: Part[]): void {
    const job = this.jobs.get(jobId);
    if (!job || parts.length === 0) return;
    for (const part of parts) {
      // A reader finds a job's chunks as one range of numbers: its parts must be consecutive.
      if (job.last !== undefined && part.number !== job.last + 1)
        throw new ProtocolError(`Job '${jobId}': chunk ${part.number} does not follow chunk ${job.last}.`);
      job.first ??= part.number;
      job.last = part.number;
      part.job = job;
      job.parts.push(part);
    }
  }

  /** Resolves once a part is on the queue (or done), rejects with the error that failed it. */
  private whenSent(part: Part): Promise<void> {
    if (part.state === 'sent' || part.state === 'done') return part.failure ? Promise.reject(part.failure) : Promise.resolve();
    return new Promise<void>((resolve, reject) => (part.onSent ??= []).push((error) => (error ? reject(error) : resolve())));
  }

  private notifySent(part: Part, error?: Error): void {
    if (error) part.failure ??= error;
    for (const listener of part.onSent?.splice(0) ?? []) listener(part.failure);
  }

  /** Splits a chunk whose payload is over a message's billing unit, keeping items whole. */
  private split(chunk: Chunk): Part[] {
    const parts: Part[] = [];
    const boundaries = chunk.boundaries;
    let from = 0;
    while (from < chunk.count) {
      let to = from + 1;
      const start = boundaries[from]!;
      while (to < chunk.count && boundaries[to + 1]! - start <= TARGET_MESSAGE_BYTES) to++;
      parts.push({
        number: this.nextNumber++,
        chunk,
        from,
        count: to - from,
        payload: chunk.payload.subarray(start, boundaries[to]!),
        state: 'queued',
      });
      from = to;
    }
    return parts;
  }

  private connect(): Promise<AwsSession> {
    this.session ??= (async () => {
      const session = await this.loadSession();
      this.retentionSeconds = session.config.retentionSeconds;
      if (!session.queue.deadLetterUrl) {
        process.emitWarning(
          `The task queue ${session.config.queueUrl} has no dead-letter queue: a chunk that crashes its worker every time is retried ` +
            'until the message expires, and its job waits that long. Deploy the fanout stack, or give the queue a redrive policy.',
          { code: 'FANOUT_NO_DLQ' },
        );
      }
      return session;
    })();
    return this.session;
  }

  private flush(): void {
    this.flushScheduled = false;
    const parts = this.outbox.splice(0).filter((part) => part.state === 'queued');
    if (parts.length === 0) return this.afterChange();
    for (const part of parts) part.state = 'sending';
    this.track(
      this.connect().then(
        (session) => this.send(session, parts),
        (error: Error) => this.breakPool(error),
      ),
    );
  }

  /** Sends parts in batches of up to ten messages and 1 MiB, payloads over the limit via S3. */
  private async send(session: AwsSession, parts: Part[]): Promise<void> {
    const expiresAt = this.expiresAt();
    const entries: Array<{ part: Part; entry: SendMessageBatchRequestEntry; bytes: number }> = [];
    await forEachLimited(parts, SEND_CONCURRENCY, async (part) => {
      if (part.chunk.control.cancelled) return;
      const message: JobChunkMessage = {
        type: 'jobChunk',
        job: this.run,
        chunk: part.number,
        task: part.chunk.task,
        count: part.count,
        spread: part.chunk.spread,
        expiresAt,
        ...(this.setup ? { setup: this.setup } : {}),
        ...(part.job ? { jobId: part.job.id, item: this.itemOf(part) } : {}),
      };
      let frame = encodeFrame(message, part.payload);
      if (frame.length > INLINE_CHUNK_BYTES) {
        const key = argumentsKey(this.run, part.number);
        try {
          await session.payloads.put(key, part.payload);
        } catch (error) {
          return this.failPart(part, error as Error);
        }
        frame = encodeFrame({ ...message, payloadKey: key });
        part.payloadKey = key;
      }
      if (this.speculation) part.message = message;
      const body = Buffer.from(frame).toString('base64');
      entries.push({
        part,
        bytes: body.length + ENTRY_OVERHEAD_BYTES,
        entry: {
          Id: String(part.number),
          MessageBody: body,
          MessageAttributes: {
            [RUN_ATTRIBUTE]: { DataType: 'String', StringValue: this.run },
            [CHUNK_ATTRIBUTE]: { DataType: 'Number', StringValue: String(part.number) },
          },
        },
      });
    });
    entries.sort((a, b) => a.part.number - b.part.number);
    const batches: Array<typeof entries> = [];
    let batch: typeof entries = [];
    let batchBytes = 0;
    for (const item of entries) {
      if (batch.length === SQS_MAX_BATCH_ENTRIES || batchBytes + item.bytes > SQS_MAX_REQUEST_BYTES) {
        batches.push(batch);
        batch = [];
        batchBytes = 0;
      }
      batch.push(item);
      batchBytes += item.bytes;
    }
    if (batch.length > 0) batches.push(batch);
    await forEachLimited(batches, SEND_CONCURRENCY, (items) => this.sendBatch(session, items));
  }

  private async sendBatch(session: AwsSession, items: Array<{ part: Part; entry: SendMessageBatchRequestEntry }>): Promise<void> {
    let pending = items;
    for (let attempt = 1; pending.length > 0; attempt++) {
      let failed: Array<{ id: string; reason: string }>;
      try {
        failed = await session.queue.sendBatch(pending.map((item) => item.entry));
      } catch (error) {
        for (const { part } of pending) this.failPart(part, error as Error);
        return;
      }
      const failedIds = new Set(failed.map((entry) => entry.id));
      for (const { part } of pending) if (!failedIds.has(String(part.number))) this.markSent(part);
      pending = pending.filter(({ part }) => failedIds.has(String(part.number)));
      if (pending.length > 0 && attempt >= MAX_SEND_ATTEMPTS) {
        const reason = failed.map((entry) => entry.reason).join('; ');
        for (const { part } of pending)
          this.failPart(part, new Error(`SQS refused the chunk message ${MAX_SEND_ATTEMPTS} times (${reason}).`));
        return;
      }
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }

  private markSent(part: Part): void {
    if (part.state !== 'sending') return;
    this.notifySent(part);
    if (this.detached || part.detached) {
      // Nobody here collects its result: on the queue, it is done.
      this.finishPart(part);
      return;
    }
    if (part.chunk.control.cancelled || part.dropped) {
      // Cancelled while in flight: mark it in the table so that the worker skips it.
      part.state = 'done';
      this.queueCancel(part);
      return;
    }
    part.state = 'sent';
    part.sentAt = performance.now();
    if (this.outstanding.size === 0) this.progressed();
    this.outstanding.set(part.number, part);
    this.pollDelay = MIN_POLL_MS;
    this.schedulePoll(FIRST_POLL_MS);
    this.watchDeadLetters();
    this.watchForWorkers();
  }

  private schedulePoll(delay: number): void {
    if (this.outstanding.size === 0 || this.polling) return;
    const due = performance.now() + delay;
    if (this.pollTimer && due >= this.pollDue) return;
    clearTimeout(this.pollTimer);
    this.pollDue = due;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.pollDue = Infinity;
      void this.poll();
    }, delay);
  }

  /** Reads the records of outstanding chunks, delivers them, and plans the next look. */
  private async poll(): Promise<void> {
    if (this.polling || this.outstanding.size === 0) return;
    this.polling = true;
    let found = 0;
    try {
      const session = await this.connect();
      for (const [from, to] of this.outstandingRanges()) {
        let next: Awaited<ReturnType<ResultTable['queryResults']>>['next'];
        do {
          const page = await session.table.queryResults(this.run, from, to, next);
          for (const record of page.records) {
            const part = this.outstanding.get(record.chunk);
            if (!part) continue;
            this.outstanding.delete(record.chunk);
            found++;
            this.progressed();
            await this.deliver(session, part, record);
          }
          next = page.next;
        } while (next && this.outstanding.size > 0);
      }
      this.pollFailures = 0;
      if (this.speculation) this.speculate(session);
    } catch (error) {
      if (++this.pollFailures >= MAX_POLL_FAILURES) {
        const failure = new WorkerCrashedError(
          `fanout could not read results from DynamoDB table ${(await this.session)?.clients.config.table} ` +
            `${MAX_POLL_FAILURES} times in a row (last: ${errorText(error)}); the pool's outstanding work failed.`,
          { cause: error },
        );
        for (const part of [...this.outstanding.values()]) this.failPart(part, failure);
      }
    } finally {
      this.polling = false;
    }
    this.pollDelay = found > 0 ? MIN_POLL_MS : Math.min(this.pollDelay * POLL_BACKOFF, MAX_POLL_MS);
    this.schedulePoll(this.pollDelay);
    this.afterChange();
  }

  /**
   * The outstanding chunk numbers as ranges to query, so that records already delivered are
   * mostly not read again: runs closer than {@link RANGE_MERGE_GAP} merge (one request beats
   * a few re-read records), and the last of {@link MAX_QUERY_RANGES} ranges spans the rest.
   */
  private outstandingRanges(): Array<[number, number]> {
    const numbers = [...this.outstanding.keys()].sort((a, b) => a - b);
    const ranges: Array<[number, number]> = [];
    for (const number of numbers) {
      const last = ranges.at(-1);
      if (last && (number - last[1] <= RANGE_MERGE_GAP || ranges.length === MAX_QUERY_RANGES)) last[1] = number;
      else ranges.push([number, number]);
    }
    return ranges;
  }

  /**
   * Sends a copy of each straggler: a part out `after` times longer than the median of its
   * task's finished parts (and at least `minMs`), once `minDone` of them have finished. Whichever
   * copy is recorded first is the result; the other's run is recorded as a duplicate.
   */
  private speculate(session: AwsSession): void {
    const settings = this.speculation!;
    const now = performance.now();
    const outstandingByTask = new Map<string, Part[]>();
    for (const part of this.outstanding.values()) {
      const name = part.chunk.task.name;
      let parts = outstandingByTask.get(name);
      if (!parts) outstandingByTask.set(name, (parts = []));
      parts.push(part);
    }
    const copies: Part[] = [];
    for (const [name, parts] of outstandingByTask) {
      const finished = this.finishedCount.get(name) ?? 0;
      const times = this.finishedMs.get(name);
      if (!times || finished < settings.minDone * (finished + parts.length)) continue;
      const threshold = Math.max(settings.minMs, settings.after * median(times));
      for (const part of parts) {
        if (!part.copied && part.message && part.sentAt !== undefined && now - part.sentAt > threshold) copies.push(part);
      }
    }
    if (copies.length === 0) return;
    for (const part of copies) part.copied = true;
    this.speculationStats.copies += copies.length;
    for (let start = 0; start < copies.length; start += SQS_MAX_BATCH_ENTRIES) {
      const batch = copies.slice(start, start + SQS_MAX_BATCH_ENTRIES).map((part) => {
        const message: JobChunkMessage = {
          ...part.message!,
          copy: true,
          ...(part.payloadKey ? { payloadKey: part.payloadKey } : {}),
        };
        return {
          Id: String(part.number),
          MessageBody: Buffer.from(encodeFrame(message, part.payloadKey ? undefined : part.payload)).toString('base64'),
          MessageAttributes: {
            [RUN_ATTRIBUTE]: { DataType: 'String', StringValue: this.run },
            [CHUNK_ATTRIBUTE]: { DataType: 'Number', StringValue: String(part.number) },
          },
        };
      });
      // A copy that cannot be sent changes nothing: the original is still on its way.
      this.track(this.counter.attribute(() => session.queue.sendBatch(batch)).catch(() => {}));
    }
  }

  /** A part's record came in: its time counts toward its task's median (for speculation). */
  private recordFinished(part: Part, record: ChunkRecord): void {
    if (record.run?.copy) this.speculationStats.copiesWon++;
    if (part.sentAt === undefined) return;
    const name = part.chunk.task.name;
    this.finishedCount.set(name, (this.finishedCount.get(name) ?? 0) + 1);
    let times = this.finishedMs.get(name);
    if (!times) this.finishedMs.set(name, (times = []));
    times.push(performance.now() - part.sentAt);
    if (times.length > FINISHED_TIMES_KEPT) times.shift();
  }

  /** Hands a chunk record to the pool. */
  private async deliver(session: AwsSession, part: Part, record: ChunkRecord): Promise<void> {
    if (this.speculation) this.recordFinished(part, record);
    part.state = 'done';
    const chunk = part.chunk;
    if (chunk.control.cancelled) return;
    if (record.status === 'cancelled') {
      // Not this pool's cancellation (its own parts leave `outstanding` first): the job was
      // cancelled from elsewhere (`job.cancel()`, the API), and its workers skipped the chunk.
      if (chunk.job) this.failChunk(chunk, new JobCancelledError(chunk.job.id, chunk.task.name), part.from);
      return;
    }
    if (record.status === 'dead') {
      return this.failChunk(
        chunk,
        new WorkerCrashedError(record.reason ?? 'The chunk is in the dead-letter queue.', { taskName: chunk.task.name }),
        part.from,
      );
    }
    if (record.status === 'tooLong') {
      const error = new ChunkTooLongError(record.reason ?? `A chunk of task '${chunk.task.name}' cannot finish in time.`, {
        taskName: chunk.task.name,
        ranMs: record.ranMs ?? 0,
        timeoutMs: record.timeoutMs ?? 0,
      });
      return this.failChunk(chunk, error, part.from);
    }
    let frameBytes = record.frame;
    try {
      if (!frameBytes && record.frameKey) frameBytes = await session.payloads.get(record.frameKey);
      if (!frameBytes) throw new Error(`the record of chunk ${part.number} of run ${this.run} has no result`);
      const { message, payload } = decodeFrame(frameBytes);
      const reply = message as ParentBoundMessage;
      if (reply.type === 'chunkFailed') return this.failChunk(chunk, fromFailureInfo(reply.error, chunk.task.name), part.from);
      if (reply.type !== 'results') throw new Error(`unexpected '${reply.type}' record for chunk ${part.number}`);
      const values = new ValueDecoder(payload, [], reviveHandle).readMany(reply.count);
      const errors = new Map<number, Error>();
      const offset = chunk.base + part.from;
      for (const [index, itemError] of reply.errors) {
        errors.set(
          offset + index,
          'remote' in itemError
            ? new RemoteError(itemError.remote, chunk.task.name)
            : fromFailureInfo(itemError.failure, chunk.task.name),
        );
      }
      this.statistics.busyMs += reply.busyMs;
      this.statistics.itemsCompleted += reply.count;
      this.finishPart(part);
      chunk.sink.onResults(offset, values, errors, reply.busyMs);
    } catch (error) {
      this.failChunk(chunk, error as Error, part.from);
    }
  }

  private finishPart(part: Part): void {
    part.state = 'done';
    const parts = this.partsOf.get(part.chunk);
    if (parts && parts.every((each) => each.state === 'done')) {
      this.partsOf.delete(part.chunk);
      this.statistics.chunksCompleted++;
    }
  }

  private failPart(part: Part, error: Error): void {
    this.notifySent(part, error);
    this.failChunk(part.chunk, error, part.from);
  }

  /** Items `from ..` of a chunk failed: drop its parts from there on and tell the pool. */
  private failChunk(chunk: Chunk, error: Error, from: number, notify = true): void {
    const parts = this.partsOf.get(chunk) ?? [];
    const later = parts.filter((part) => part.from >= from && part.state !== 'done');
    for (const part of later) this.dropPart(part);
    const remaining = parts.filter((part) => part.state !== 'done');
    if (remaining.length === 0) this.partsOf.delete(chunk);
    if (!chunk.control.cancelled) chunk.sink.onFailed(chunk.base + from, chunk.base + chunk.count, error);
    if (notify) this.afterChange();
  }

  /** Forgets a part whose result nobody wants; a sent one is marked cancelled for the workers. */
  private dropPart(part: Part): void {
    part.dropped = true;
    if (part.state === 'sent') {
      this.outstanding.delete(part.number);
      this.queueCancel(part);
    }
    // A part being sent is marked when its send completes (markSent sees the cancelled chunk).
    if (part.state === 'sending') return;
    if (part.state === 'queued' && part.job) this.notifySent(part, new JobCancelledError(part.job.id, part.chunk.task.name));
    part.state = 'done';
  }

  private queueCancel(part: Part): void {
    this.cancelQueue.push(part);
    if (this.cancelQueue.length > 1) return;
    queueMicrotask(() => {
      // A job's chunk says which items it held, so that the job's readers count and page them.
      const numbers = this.cancelQueue
        .splice(0)
        .map((part) => (part.job ? { chunk: part.number, item: this.itemOf(part), items: part.count } : part.number));
      if (numbers.length === 0 || !this.session) return;
      this.track(
        this.session
          .then(({ table }) => table.cancelChunks(this.run, numbers, this.expiresAt()))
          .catch(() => {
            // Not marked: the workers run those chunks, and their results are ignored.
          }),
      );
    });
  }

  /** Watches the dead-letter queue while chunks are outstanding. */
  private watchDeadLetters(): void {
    // An aborted watch may still be winding down: a new one starts next to it.
    if ((this.deadLetterWatch && !this.deadLetterWatch.signal.aborted) || this.noDeadLetterQueue || this.outstanding.size === 0)
      return;
    const watch = new AbortController();
    this.deadLetterWatch = watch;
    void (async () => {
      const session = await this.connect().catch(() => undefined);
      const url = session?.queue.deadLetterUrl;
      if (!session || !url) {
        this.noDeadLetterQueue = true;
        return;
      }
      while (!watch.signal.aborted && this.outstanding.size > 0) {
        let messages: Message[];
        try {
          messages = await session.queue.receiveDeadLetters(watch.signal);
        } catch {
          if (watch.signal.aborted) break;
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
        for (const message of messages) await this.onDeadLetter(session, url, message);
      }
    })().finally(() => {
      if (this.deadLetterWatch === watch) this.deadLetterWatch = undefined;
      this.watchDeadLetters();
    });
  }

  private async onDeadLetter(session: AwsSession, url: string, message: Message): Promise<void> {
    if (message.MessageAttributes?.[RUN_ATTRIBUTE]?.StringValue !== this.run) {
      // Another run's message is left to its own client (it shows again within seconds), unless
      // its run has expired: then nobody is waiting for it.
      if (expiredRun(message)) await session.queue.deleteDeadLetter(message).catch(() => {});
      return;
    }
    const number = Number(message.MessageAttributes[CHUNK_ATTRIBUTE]?.StringValue);
    const part = this.outstanding.get(number);
    if (part) {
      const reason =
        `Chunk ${number} of task '${part.chunk.task.name}' (items ${part.from}..${part.from + part.count - 1} of its batch) ` +
        'crashed or timed out its worker on every delivery and was moved to the dead-letter queue ' +
        `${url}. Look for a task that exits the process, exhausts memory, or outlasts the worker's timeout.`;
      try {
        // Recorded so that the outcome is the same for everyone who reads the run.
        const inJob = part.job ? { item: this.itemOf(part), items: part.count, itemErrors: part.count } : {};
        const written = await session.table.putResult(
          this.run,
          { chunk: number, status: 'dead', reason, ...inJob },
          this.expiresAt(),
        );
        if (!written) return; // A result was recorded after all: the poll delivers it.
      } catch {
        return; // Try again on the message's next receive.
      }
      if (this.outstanding.delete(number)) {
        part.state = 'done';
        this.failChunk(part.chunk, new WorkerCrashedError(reason, { taskName: part.chunk.task.name }), part.from);
      }
    }
    await session.queue.deleteDeadLetter(message).catch(() => {});
  }

  /** A result came in: someone receives. */
  private progressed(): void {
    this.lastSeenReceiving = performance.now();
    this.noWorkerCheckMs = NO_WORKER_FIRST_CHECK_MS;
    this.noWorkerCheckDue = performance.now() + NO_WORKER_FIRST_CHECK_MS;
  }

  /**
   * While chunks are outstanding and no result comes in, looks now and then whether anyone
   * receives them: nobody does when the queue holds messages and none is in flight. A look costs
   * one GetQueueAttributes, and there is none while results come in (the first comes 10 s after
   * the last result; then every 5 s while nobody receives, and ever less often, up to a minute,
   * while someone does). The first time nobody does, a warning (once per pool) names the queue
   * and how to start workers; after `noWorkerTimeout` of nobody, the outstanding chunks fail
   * with NoWorkersError.
   */
  private watchForWorkers(): void {
    if (this.noWorkerTimer || this.outstanding.size === 0) return;
    this.noWorkerTimer = setTimeout(() => void this.checkForWorkers(), Math.max(0, this.noWorkerCheckDue - performance.now()));
  }

  private async checkForWorkers(): Promise<void> {
    if (this.outstanding.size === 0 || performance.now() < this.noWorkerCheckDue) {
      // Idle, or a result came in meanwhile (the next look is due later).
      this.noWorkerTimer = undefined;
      return this.watchForWorkers();
    }
    const lookedFrom = performance.now();
    let depth: { waiting: number; inFlight: number } | undefined;
    let session: AwsSession | undefined;
    try {
      session = await this.connect();
      depth = await session.queue.depth();
    } catch {
      depth = undefined; // Look again later: a failed look says nothing about workers.
    }
    this.noWorkerTimer = undefined;
    if (this.outstanding.size === 0 || this.noWorkerCheckDue > lookedFrom) return this.watchForWorkers();
    let next = this.noWorkerCheckMs;
    if (depth && session && depth.inFlight === 0 && depth.waiting > 0) {
      next = NO_WORKER_FIRST_CHECK_MS / 2;
      this.onNobodyReceives(session.queue.url, lookedFrom - this.lastSeenReceiving);
    } else if (depth) {
      this.lastSeenReceiving = lookedFrom;
      this.noWorkerCheckMs = Math.min(NO_WORKER_MAX_CHECK_MS, this.noWorkerCheckMs * 2);
      next = this.noWorkerCheckMs;
    }
    this.noWorkerCheckDue = performance.now() + next;
    this.watchForWorkers();
  }

  private onNobodyReceives(queueUrl: string, waitedMs: number): void {
    const howToStart =
      'Start workers: `npx fanout worker` on this machine (with the same FANOUT_* environment, e.g. against the emulators), ' +
      'or deploy the stack (`npx cdk deploy`) so that its Lambda receives them.';
    if (!this.warnedNoWorkers) {
      this.warnedNoWorkers = true;
      const limit =
        this.noWorkerTimeoutMs > 0
          ? `The call fails after ${Math.round(this.noWorkerTimeoutMs / 1000)} s of this (${NO_WORKER_TIMEOUT_VARIABLE}).`
          : `The call waits for ever (${NO_WORKER_TIMEOUT_VARIABLE}=0).`;
      process.emitWarning(
        `fanout: nobody has received this pool's chunks for ${Math.round(waitedMs / 1000)} s: the task queue ${queueUrl} ` +
          `holds them and has no message in flight. ${howToStart} ${limit}`,
        { code: 'FANOUT_NO_WORKERS' },
      );
    }
    if (this.noWorkerTimeoutMs === 0 || waitedMs < this.noWorkerTimeoutMs) return;
    const error = new NoWorkersError(
      `Nobody received this call's chunks for ${Math.round(waitedMs / 1000)} s (the limit, ${NO_WORKER_TIMEOUT_VARIABLE} or ` +
        `noWorkerTimeout, is ${this.noWorkerTimeoutMs} ms): the task queue ${queueUrl} holds them and has no message in flight. ` +
        howToStart,
      { queueUrl, waitedMs },
    );
    for (const part of [...this.outstanding.values()]) this.failPart(part, error);
  }

  /** The configuration cannot be loaded: fail everything, now and from now on. */
  private breakPool(error: Error): void {
    this.broken ??= error;
    for (const chunk of [...this.partsOf.keys()]) this.failChunk(chunk, error, 0, false);
    this.afterChange();
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => {
      this.inFlight.delete(promise);
      this.afterChange();
    });
  }

  private isIdle(): boolean {
    return (
      this.outbox.length === 0 &&
      !this.flushScheduled &&
      this.outstanding.size === 0 &&
      this.inFlight.size === 0 &&
      this.cancelQueue.length === 0
    );
  }

  /** Stops background work when nothing is outstanding, and wakes `join()` when idle. */
  private afterChange(): void {
    if (this.outstanding.size === 0) {
      clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
      this.pollDue = Infinity;
      clearTimeout(this.noWorkerTimer);
      this.noWorkerTimer = undefined;
      // The dead-letter watch ends after its current long poll: aborting a long poll can leave a
      // message delivered to the closed session, hidden for the visibility timeout.
    }
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async shutDown(): Promise<void> {
    // The session is the backend's: other pools and primitives go on using it.
    this.deadLetterWatch?.abort();
    this.session = undefined;
  }

  private expiresAt(): number {
    return Math.floor(Date.now() / 1000) + this.retentionSeconds;
  }
}

/** The no-worker timeout from the option, else the environment, else the default; a bad value is an InvalidArgumentError. */
function noWorkerTimeout(option: number | undefined): number {
  if (option !== undefined) {
    if (!Number.isInteger(option) || option < 0)
      throw new InvalidArgumentError('noWorkerTimeout', option, 'a whole number of milliseconds ≥ 0 (0 waits for ever)');
    return option;
  }
  const fromEnvironment = process.env[NO_WORKER_TIMEOUT_VARIABLE];
  if (fromEnvironment === undefined || fromEnvironment === '') return DEFAULT_NO_WORKER_TIMEOUT_MS;
  const value = Number(fromEnvironment);
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      `the ${NO_WORKER_TIMEOUT_VARIABLE} environment variable`,
      fromEnvironment,
      'a whole number of milliseconds ≥ 0 (0 waits for ever)',
    );
  }
  return value;
}

/** Whether a dead letter belongs to a run past its retention. */
function expiredRun(message: Message): boolean {
  try {
    return decodeChunkBody(message.Body ?? '').message.expiresAt < Date.now() / 1000;
  } catch {
    return false; // Not a fanout chunk: not ours to delete.
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The model of what a job's workers cost, from what the job's records say of it: the requests of
 * the worker Lambda and its SQS event source per the chunk protocol (see `ChunkProcessor`), and
 * the Lambda time its chunk records bound. Shared by the cost report of a job that ran
 * ({@link JobCost}) and the estimate of one that has not ({@link estimateJob}).
 */
import type { RequestCounts } from '../backends/aws/RequestCounter.js';
import type { ChunkRunRecord } from './ChunkTimeline.js';

/** A figure known within bounds: the least it can be, the model's best figure, the most it can be. */
export interface Bounded {
  low: number;
  point: number;
  high: number;
}

/** The services a job is billed for. */
export type CostService = 'SQS' | 'DynamoDB' | 'S3' | 'Lambda';

/** What a job's requests of one kind come to, before prices. */
export interface RequestFigure {
  service: CostService;
  /** The request kind (`SendMessageBatch`, `PutItem`...), or Lambda's `Invocations` / `Compute`. */
  kind: string;
  /** Who makes the requests: the program that submitted (and read) the job, or the workers and their event source. */
  side: 'submitter' | 'workers';
  /** Counted by a `RequestCounter` (exact), or modelled from the job's records (bounds). */
  basis: 'counted' | 'modelled';
  /** Requests (for Lambda's `Compute`: milliseconds billed). */
  requests: Bounded;
  /** What is billed: SQS 64 KB requests, DynamoDB read or write units, S3 requests, Lambda invocations or GB-seconds. */
  units: Bounded;
  unitName: BillingUnit;
}

/** The unit a figure is billed in. */
export type BillingUnit =
  'SQS requests' | 'read units' | 'write units' | 'PUT requests' | 'GET requests' | 'invocations' | 'GB-seconds' | 'requests';

/** What a job's worker side did, in the terms the request model needs. */
export interface WorkerJobShape {
  /** Chunk messages the job was sent as. */
  chunks: number;
  /** Chunks a worker ran and recorded (a result, or a task's failure). */
  recorded: number;
  /** Deliveries of the recorded chunks: the sum of their attempts (SQS receive counts). */
  deliveries: number;
  /** Chunks without a worker's record: cancelled, dead, too long, or failed by the submitter. */
  unrecorded: number;
  /** The job was cancelled: its unrecorded chunks are received (at most) once each and skipped. */
  cancelled: boolean;
  /** Distinct worker environments (Lambda log streams, fleet workers). */
  environments: number;
  /** Average bytes of a chunk message's body (base64). */
  messageBytes: number;
  /** Average bytes of a chunk's result frame, as its record holds it (0 when it went to S3). */
  resultBytes: number;
  /** Chunks whose arguments went through S3 (a GET per delivery). */
  argumentObjects: number;
  /** Chunks whose results went to S3 (a PUT per recorded attempt). */
  resultObjects: number;
  /** Visibility extensions the chunks' run times imply (one per held message per half visibility timeout). */
  heartbeats: number;
  /** The task queue's `maxReceiveCount`: the most deliveries a chunk that keeps crashing gets. */
  maxReceiveCount: number;
  /**
   * The chunks belong to a recorded job (`mapAsync`, the HTTP API; not a plain `map`): each
   * batch also reads the job's item, and the workers record a cancelled job's chunks.
   * @default true
   */
  job?: boolean;
}

/** SQS bills each 64 KB of a request's or response's messages as one request. */
const SQS_UNIT_BYTES = 64 * 1024;
/** A receive takes at most ten messages; deletes and visibility changes go ten to a request. */
const SQS_BATCH = 10;
/** DynamoDB bills a write per KB of the item, a consistent read per 4 KB. */
const WRITE_UNIT_BYTES = 1024;
/** A chunk record's bytes beside its result frame: keys, status, run map, TTL (measured: ~120). */
const RECORD_OVERHEAD_BYTES = 160;

/**
 * A figure known exactly.
 *
 * @example
 * ```ts
 * exact(3); // { low: 3, point: 3, high: 3 }
 * ```
 */
export function exact(value: number): Bounded {
  return { low: value, point: value, high: value };
}

/**
 * The requests a job's workers make, by kind, with bounds, per the chunk protocol:
 * - the event source receives the chunk messages (a receive takes 1 to 10; empty long polls are
 *   the queue's standing cost, not the job's) and deletes those done, a DeleteMessageBatch per
 *   batch; every non-empty batch is one Lambda invocation;
 * - per batch, one BatchGetItem (`findSettled`: each chunk's key, the run's cancel marker and
 *   the job's item, read consistently, about one read unit a key);
 * - per recorded chunk, one conditional PutItem (a unit per KB of its record; a duplicate
 *   delivery's refused put still costs one), an S3 PUT when its results are over 350 KiB, and an
 *   S3 GET per delivery when its arguments went to S3;
 * - per extra delivery (a crash, a hand-back at the deadline): one visibility change, and a
 *   crash also counts itself with an UpdateItem; heartbeats keep long chunks hidden; a cancelled
 *   job's chunks are recorded as cancelled (a PutItem each) when they are received;
 * - per environment, one GetQueueAttributes (the queue's settings, read once).
 *
 * @example
 * ```ts
 * const figures = modelWorkerRequests({
 *   chunks: 40, recorded: 40, deliveries: 40, unrecorded: 0, cancelled: false, environments: 2,
 *   messageBytes: 200, resultBytes: 100, argumentObjects: 0, resultObjects: 0, heartbeats: 0, maxReceiveCount: 5,
 * });
 * figures.find((f) => f.kind === 'PutItem')?.requests.point; // 40
 * ```
 */
export function modelWorkerRequests(shape: WorkerJobShape): RequestFigure[] {
  const { recorded, unrecorded, environments } = shape;
  const retries = Math.max(0, shape.deliveries - recorded);
  const deliveries: Bounded = {
    low: shape.deliveries,
    point: shape.deliveries + unrecorded,
    high: shape.deliveries + unrecorded * (shape.cancelled ? 1 : shape.maxReceiveCount),
  };
  // Batches: full ones at best; at worst one message each. Each environment had one at least.
  const batchesAt = (messages: number) => Math.max(Math.min(environments, messages), Math.ceil(messages / SQS_BATCH));
  const batches: Bounded = {
    low: Math.ceil(deliveries.low / SQS_BATCH),
    point: batchesAt(deliveries.point),
    high: deliveries.high,
  };
  const receiveUnits = (count: number, messages: number) =>
    count === 0 ? 0 : count * Math.max(1, Math.ceil(((messages / count) * shape.messageBytes) / SQS_UNIT_BYTES));
  const worker = (
    service: CostService,
    kind: string,
    requests: Bounded,
    units: Bounded,
    unitName: BillingUnit,
  ): RequestFigure => ({ service, kind, side: 'workers', basis: 'modelled', requests, units, unitName });

  const recordUnits = Math.max(1, Math.ceil((shape.resultBytes + RECORD_OVERHEAD_BYTES) / WRITE_UNIT_BYTES));
  const job = shape.job ?? true;
  // A cancelled job's chunks that reach a worker are recorded as cancelled (small records).
  const cancelledPuts = job && shape.cancelled ? unrecorded : 0;
  const puts: Bounded = { low: recorded, point: recorded + cancelledPuts, high: recorded + retries + cancelledPuts };
  const keysPerBatch = job ? 2 : 1;
  const averageAttempts = recorded > 0 ? shape.deliveries / recorded : 1;
  const visibility: Bounded = {
    low: Math.ceil(retries / SQS_BATCH) + Math.ceil(shape.heartbeats / SQS_BATCH),
    point:
      retries + Math.ceil(shape.heartbeats / Math.max(1, Math.min(SQS_BATCH, averageBatch(deliveries.point, batches.point)))),
    high: retries + shape.heartbeats,
  };
  const figures: RequestFigure[] = [
    worker(
      'SQS',
      'ReceiveMessage',
      batches,
      {
        low: receiveUnits(batches.low, deliveries.low),
        point: receiveUnits(batches.point, deliveries.point),
        high: receiveUnits(batches.high, deliveries.high),
      },
      'SQS requests',
    ),
    worker(
      'SQS',
      'DeleteMessageBatch',
      { ...batches, low: Math.ceil(recorded / SQS_BATCH) },
      { ...batches, low: Math.ceil(recorded / SQS_BATCH) },
      'SQS requests',
    ),
    worker('SQS', 'ChangeMessageVisibilityBatch', visibility, visibility, 'SQS requests'),
    worker(
      'SQS',
      'GetQueueAttributes',
      { low: 0, point: environments, high: environments },
      { low: 0, point: environments, high: environments },
      'SQS requests',
    ),
    worker(
      'DynamoDB',
      'BatchGetItem',
      batches,
      // One read unit per key: the batch's chunks, the run's cancel marker, the job's item.
      {
        low: deliveries.low + keysPerBatch * batches.low,
        point: deliveries.point + keysPerBatch * batches.point,
        high: deliveries.high + keysPerBatch * batches.high,
      },
      'read units',
    ),
    worker(
      'DynamoDB',
      'PutItem',
      puts,
      {
        low: recorded * recordUnits,
        point: recorded * recordUnits + cancelledPuts,
        high: recorded * recordUnits + retries + cancelledPuts,
      },
      'write units',
    ),
    worker(
      'DynamoDB',
      'UpdateItem',
      { low: 0, point: 0, high: retries + unrecorded * shape.maxReceiveCount },
      { low: 0, point: 0, high: retries + unrecorded * shape.maxReceiveCount },
      'write units',
    ),
    worker(
      'S3',
      'GetObject',
      {
        low: shape.argumentObjects,
        point: Math.round(shape.argumentObjects * averageAttempts),
        high: shape.argumentObjects * Math.max(1, shape.maxReceiveCount),
      },
      {
        low: shape.argumentObjects,
        point: Math.round(shape.argumentObjects * averageAttempts),
        high: shape.argumentObjects * Math.max(1, shape.maxReceiveCount),
      },
      'GET requests',
    ),
    worker(
      'S3',
      'PutObject',
      {
        low: shape.resultObjects,
        point: shape.resultObjects,
        high: shape.resultObjects + Math.min(retries, shape.resultObjects * shape.maxReceiveCount),
      },
      {
        low: shape.resultObjects,
        point: shape.resultObjects,
        high: shape.resultObjects + Math.min(retries, shape.resultObjects * shape.maxReceiveCount),
      },
      'PUT requests',
    ),
    worker('Lambda', 'Invocations', batches, batches, 'invocations'),
  ];
  return figures.filter((figure) => figure.requests.high > 0);
}

function averageBatch(messages: number, batches: number): number {
  return batches > 0 ? messages / batches : 1;
}

/** The Lambda time a job's chunk records bound, per environment and in all. */
export interface LambdaTime {
  /** Distinct environments (workers) in the records. */
  environments: number;
  /** Environments that started cold for this job (a record with `coldStart`). */
  coldEnvironments: number;
  /** Time inside chunks, added up over chunks (threads of one environment counted apart), ms. */
  chunkMs: number;
  /**
   * Billed duration, ms. `low`: per environment, the union of its chunks' intervals (an
   * environment runs one invocation at a time, and every chunk ran inside one); `point`: that,
   * plus the modelled per-invocation overhead of each batch and the init of each cold
   * environment; `high`: per environment, its first chunk's start to its last chunk's end, plus
   * the overhead of one invocation per chunk, the inits, and the earlier attempts of retried
   * chunks at their recorded length.
   */
  billedMs: Bounded;
}

/** What the Lambda time model assumes, where the records are silent. */
export interface LambdaTimeOptions {
  /** Invocation time outside chunks (findSettled before, the record's put after), ms. @default 25 */
  invocationOverheadMs?: number;
  /** Billed init of a cold environment (Lambda bills INIT), ms. @default 250 */
  initMs?: number;
  /** Non-empty batches (invocations), when a better figure than one per environment is known. */
  invocations?: number;
}

/** The default of {@link LambdaTimeOptions.invocationOverheadMs}. */
export const DEFAULT_INVOCATION_OVERHEAD_MS = 25;
/** The default of {@link LambdaTimeOptions.initMs}. */
export const DEFAULT_INIT_MS = 250;

/**
 * Bounds a job's billed Lambda time from its chunk records (see {@link LambdaTime.billedMs}):
 * what is measured is each chunk's interval on its environment's clock; what is modelled is the
 * time around the chunks (the invocation's own requests, the init of a cold environment) and the
 * attempts before the recorded one (the records keep only the last).
 *
 * @example
 * ```ts
 * const time = lambdaTimeFromRuns([
 *   { chunk: 0, worker: 'a', thread: 0, startMs: 0, endMs: 100, attempts: 1, coldStart: false, taskMs: 90, items: 1, status: 'ok' },
 *   { chunk: 1, worker: 'a', thread: 1, startMs: 50, endMs: 150, attempts: 1, coldStart: false, taskMs: 90, items: 1, status: 'ok' },
 * ], { invocationOverheadMs: 0, initMs: 0 });
 * time.billedMs; // { low: 150, point: 150, high: 150 }
 * ```
 */
export function lambdaTimeFromRuns(runs: readonly ChunkRunRecord[], options: LambdaTimeOptions = {}): LambdaTime {
  const overheadMs = options.invocationOverheadMs ?? DEFAULT_INVOCATION_OVERHEAD_MS;
  const initMs = options.initMs ?? DEFAULT_INIT_MS;
  const byWorker = new Map<string, ChunkRunRecord[]>();
  for (const run of runs) {
    const list = byWorker.get(run.worker);
    if (list) list.push(run);
    else byWorker.set(run.worker, [run]);
  }
  let unionMs = 0;
  let spanMs = 0;
  let chunkMs = 0;
  let retriedMs = 0;
  let coldEnvironments = 0;
  for (const list of byWorker.values()) {
    const sorted = [...list].sort((a, b) => a.startMs - b.startMs);
    let cold = false;
    let reach = -Infinity;
    for (const run of sorted) {
      const length = run.endMs - run.startMs;
      chunkMs += length;
      retriedMs += Math.max(0, run.attempts - 1) * length;
      if (run.coldStart) cold = true;
      // The union of intervals: only what reaches past the furthest end so far is new.
      if (run.endMs > reach) {
        unionMs += run.endMs - Math.max(run.startMs, reach);
        reach = run.endMs;
      }
    }
    spanMs += reach - sorted[0]!.startMs;
    if (cold) coldEnvironments++;
  }
  const environments = byWorker.size;
  const invocations = Math.max(environments, options.invocations ?? environments);
  const inits = coldEnvironments * initMs;
  return {
    environments,
    coldEnvironments,
    chunkMs,
    billedMs: {
      low: unionMs,
      point: unionMs + invocations * overheadMs + inits,
      high: spanMs + runs.length * overheadMs + inits + retriedMs,
    },
  };
}

/**
 * Heartbeats the chunks' run times imply: a worker extends each held message's visibility every
 * half visibility timeout of its invocation (counted here from each chunk's start).
 *
 * @example
 * ```ts
 * heartbeatsFromRuns([{ startMs: 0, endMs: 2500 }], 2); // 2 beats, at 1 s and 2 s
 * ```
 */
export function heartbeatsFromRuns(
  runs: ReadonlyArray<Pick<ChunkRunRecord, 'startMs' | 'endMs'>>,
  visibilityTimeoutSeconds: number | undefined,
): number {
  if (visibilityTimeoutSeconds === undefined || !(visibilityTimeoutSeconds >= 1)) return 0;
  const interval = (visibilityTimeoutSeconds * 1000) / 2;
  let beats = 0;
  for (const run of runs) beats += Math.floor((run.endMs - run.startMs) / interval);
  return beats;
}

/** Request kinds that write (priced by write units) among DynamoDB's. */
const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
/** S3 request kinds billed as PUTs (each part of a multipart upload is one). */
const S3_PUTS = new Set([
  'PutObject',
  'UploadPart',
  'CreateMultipartUpload',
  'CompleteMultipartUpload',
  'CopyObject',
  'ListObjectsV2',
]);

/** S3 request kinds that cost nothing. */
const S3_FREE = new Set(['DeleteObject', 'DeleteObjects']);

/**
 * The figures of requests a `RequestCounter` counted (exact). Its billed units are totals per
 * service: SQS's 64 KB units and DynamoDB's read and write units are shared out among the kinds
 * of that service in proportion to their requests (so per kind they are apportioned; the totals
 * are as counted).
 *
 * @example
 * ```ts
 * figuresFromCounts(pool.stats().requests ? counter.snapshot() : emptyCounts, 'submitter');
 * ```
 */
export function figuresFromCounts(counts: RequestCounts, side: 'submitter' | 'workers'): RequestFigure[] {
  const figures: RequestFigure[] = [];
  const entries = Object.entries(counts.requests).filter(([, count]) => count > 0);
  const sqsKinds = entries.filter(([key]) => key.startsWith('SQS.'));
  const reads = entries.filter(([key]) => key.startsWith('DynamoDB.') && !DYNAMO_WRITES.has(key.slice(9)));
  const writes = entries.filter(([key]) => key.startsWith('DynamoDB.') && DYNAMO_WRITES.has(key.slice(9)));
  const share = (group: Array<[string, number]>, total: number, count: number) => {
    const requests = group.reduce((sum, [, n]) => sum + n, 0);
    return requests > 0 ? (count / requests) * total : 0;
  };
  const sqsRequests = sqsKinds.reduce((sum, [, n]) => sum + n, 0);
  const sqsExtra = Math.max(0, counts.sqsBilledRequests - sqsRequests);
  const carriers = sqsKinds.filter(([key]) => /SendMessage|ReceiveMessage/.test(key));
  for (const [key, count] of entries) {
    const dot = key.indexOf('.');
    const service = key.slice(0, dot);
    const kind = key.slice(dot + 1);
    let units: number;
    let unitName: BillingUnit;
    let billed: CostService;
    if (service === 'SQS') {
      billed = 'SQS';
      unitName = 'SQS requests';
      // Every request is one unit at least; the payload units beyond go to the kinds that carry messages.
      units = count + (carriers.some(([k]) => k === key) ? share(carriers, sqsExtra, count) : 0);
    } else if (service === 'DynamoDB') {
      billed = 'DynamoDB';
      const write = DYNAMO_WRITES.has(kind);
      unitName = write ? 'write units' : 'read units';
      units = write ? share(writes, counts.dynamoWriteUnits, count) : share(reads, counts.dynamoReadUnits, count);
    } else if (service === 'S3') {
      billed = 'S3';
      const put = S3_PUTS.has(kind);
      unitName = put ? 'PUT requests' : 'GET requests';
      // Deletes are free.
      units = S3_FREE.has(kind) ? 0 : count;
    } else {
      continue; // Not a service a job is billed for here.
    }
    figures.push({ service: billed, kind, side, basis: 'counted', requests: exact(count), units: exact(units), unitName });
  }
  return figures;
}

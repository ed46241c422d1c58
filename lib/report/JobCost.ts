import type { JobState, JobStatus } from '../backend/JobService.js';
import type { RequestCounts } from '../backends/aws/RequestCounts.js';
import { InvalidArgumentError } from '../errors.js';
import { AWS_PRICES, type AwsPrices } from './awsPrices.js';
import { ChunkTimeline, type ChunkRunRecord } from './ChunkTimeline.js';
import {
  figuresFromCounts,
  heartbeatsFromRuns,
  lambdaTimeFromRuns,
  modelWorkerRequests,
  type BillingUnit,
  type Bounded,
  type CostService,
  type LambdaTime,
  type LambdaTimeOptions,
  type RequestFigure,
} from './WorkerCostModel.js';

/** What the model assumes where a job's records are silent; each has a default. */
export interface JobCostModelOptions extends LambdaTimeOptions {
  /** The task queue's visibility timeout, for the heartbeats of long chunks. @default none (no heartbeats) */
  visibilityTimeoutSeconds?: number;
  /** Average bytes of a chunk message. @default from the submitter's counted SQS units, else small (one 64 KB unit a receive) */
  messageBytes?: number;
  /**
   * Average bytes of a chunk's result frame in its record. @default from the read units of the
   * submitter's counted result polls, else 0 (a record of one write unit)
   */
  resultBytes?: number;
  /** Chunks whose arguments went through S3. @default the submitter's counted S3 PUTs, else 0 */
  argumentObjects?: number;
  /** Chunks whose results went to S3. @default the submitter's counted S3 GETs, else 0 */
  resultObjects?: number;
  /** The task queue's `maxReceiveCount`. @default 5 (the stack's) */
  maxReceiveCount?: number;
  /** Prices to reckon at instead of DESIGN.md's. */
  prices?: Partial<AwsPrices>;
}

/** What {@link JobCost.fromRuns} reckons from. */
export interface JobCostInput {
  /** The job's status (`JobService.status`). */
  status: JobStatus;
  /** Its chunk records (`JobService.chunkRuns`). */
  chunkRuns: readonly ChunkRunRecord[];
  /**
   * Runs that lost the race to record their chunk (a straggler's copy or its original, a
   * duplicated delivery: `JobService.duplicateRuns`): not in the results, billed all the same.
   */
  duplicateRuns?: readonly ChunkRunRecord[];
  /** The worker Lambda's memory, MB (the Fanout construct's `workerMemoryMb`, 1,769 by default). */
  memoryMb: number;
  /** The submitting program's requests, counted (a pool's `RequestCounter`): taken as exact. */
  submitter?: RequestCounts;
  model?: JobCostModelOptions;
}

/** One line of the bill: a figure with its dollars. */
export interface CostLine extends RequestFigure {
  dollars: Bounded;
}

/** A job's cost, as {@link JobCost.toJSON} gives it. */
export interface JobCostReport {
  jobId: string;
  task: string;
  status: JobState;
  items: number;
  chunks: number;
  memoryMb: number;
  /** The Lambda time the records bound, and its GB-seconds. */
  lambda: LambdaTime & { gbSeconds: Bounded };
  /** Requests by service, kind and side; then Lambda's invocations and compute. */
  lines: CostLine[];
  /** Dollars by service. */
  byService: Record<CostService, Bounded>;
  /** Dollars in all. */
  total: Bounded;
  /** What is measured (counted, or read from the records) and what is modelled. */
  measured: string[];
  modelled: string[];
  prices: AwsPrices;
}

/** What a {@link JobCost} is made of: the job, the request figures, the Lambda time, the notes. */
export interface JobCostParts {
  job: { jobId: string; task: string; status: JobState; items: number; chunks: number };
  memoryMb: number;
  /** Request figures, both sides, Lambda invocations included (not Lambda compute: from `lambda`). */
  figures: RequestFigure[];
  lambda: LambdaTime;
  /** Whether Lambda's billed time is measured (records) or predicted (an estimate). */
  lambdaBasis: 'counted' | 'modelled';
  measured: string[];
  modelled: string[];
  prices?: Partial<AwsPrices> | undefined;
}

const SERVICES: readonly CostService[] = ['SQS', 'DynamoDB', 'S3', 'Lambda'];
/** A chunk record's bytes beside its results (keys, status, run map, TTL). */
const RECORD_OVERHEAD_BYTES = 160;

/**
 * A job's cost: its requests by service and kind, its Lambda GB-seconds and the dollars at
 * DESIGN.md's prices (arm64), each as bounds with a best figure. The submitter's requests are
 * exact when counted (`submitter`); the workers' follow the chunk protocol, modelled from the
 * job's records ({@link modelWorkerRequests}); Lambda's time is bounded by the chunk records
 * ({@link lambdaTimeFromRuns}). Empty long polls of the event source are the queue's standing
 * cost (a few requests a minute per poller), not any job's, and are left out.
 *
 * @example
 * ```ts
 * const cost = JobCost.fromRuns({
 *   status: await jobs.status(id),
 *   chunkRuns: await jobs.chunkRuns(id),
 *   memoryMb: 1769,
 * });
 * console.log(cost.toText());
 * cost.toJSON().total.point; // dollars
 * ```
 */
export class JobCost {
  private readonly report: JobCostReport;

  constructor(parts: JobCostParts) {
    const prices: AwsPrices = { ...AWS_PRICES, ...(parts.prices ?? {}) };
    checkPositive('JobCost: memoryMb', parts.memoryMb);
    const gb = parts.memoryMb / 1024;
    const gbSeconds = mapBounded(parts.lambda.billedMs, (ms) => (ms / 1000) * gb);
    const compute: RequestFigure = {
      service: 'Lambda',
      kind: 'Compute',
      side: 'workers',
      basis: parts.lambdaBasis,
      requests: parts.lambda.billedMs,
      units: gbSeconds,
      unitName: 'GB-seconds',
    };
    const lines = [...parts.figures, compute].map((figure) => ({
      ...figure,
      dollars: mapBounded(figure.units, (units) => units * unitPrice(figure.unitName, prices)),
    }));
    const byService = Object.fromEntries(
      SERVICES.map((service) => [service, sumBounded(lines.filter((line) => line.service === service).map((l) => l.dollars))]),
    ) as Record<CostService, Bounded>;
    this.report = {
      ...parts.job,
      memoryMb: parts.memoryMb,
      lambda: { ...parts.lambda, gbSeconds },
      lines,
      byService,
      total: sumBounded(lines.map((line) => line.dollars)),
      measured: parts.measured,
      modelled: parts.modelled,
      prices,
    };
  }

  /**
   * The cost of a job that ran, from its status, its chunk records, the workers' memory and
   * (optionally) the submitter's counted requests.
   *
   * @example
   * ```ts
   * const cost = JobCost.fromRuns({ status, chunkRuns, memoryMb: 1769, submitter: counter.snapshot() });
   * ```
   */
  static fromRuns(input: JobCostInput): JobCost {
    if (typeof input !== 'object' || input === null) {
      throw new InvalidArgumentError('JobCost.fromRuns(input)', input, 'an object { status, chunkRuns, memoryMb }');
    }
    const { status, memoryMb, submitter } = input;
    const model = input.model ?? {};
    checkStatus(status);
    checkPositive('JobCost.fromRuns(input): memoryMb', memoryMb);
    // The timeline checks each record's fields and names a bad one.
    const runs = new ChunkTimeline({ jobId: status.jobId, task: status.task, chunks: input.chunkRuns }).lanes.flatMap(
      (lane) => lane.chunks,
    );
    const recorded = runs.length;
    const duplicates = input.duplicateRuns ?? [];
    // A losing run ran on its environment like any other: its time is billed, its delivery counted.
    const billed = [...runs, ...duplicates];
    const deliveries = billed.reduce((sum, run) => sum + run.attempts, 0);
    const counted = submitter?.requests ?? {};
    const sends = counted['SQS.SendMessageBatch'] ?? 0;
    const sqsCounted = Object.entries(counted)
      .filter(([key]) => key.startsWith('SQS.'))
      .reduce((sum, [, n]) => sum + n, 0);
    const extraUnits = submitter ? Math.max(0, submitter.sqsBilledRequests - sqsCounted) : 0;
    const messageBytes =
      model.messageBytes ??
      (extraUnits > 0 && status.chunks > 0 ? ((sends + extraUnits) * 65536 - 32768 * sends) / status.chunks : 0);
    const lambdaTime = lambdaTimeFromRuns(billed, model);
    // The submitter's result polls read the records consistently, a unit per 4 KB: their units
    // say how big the records are (each poll rounds up, so half a unit a poll is taken off).
    const queries = counted['DynamoDB.Query'] ?? 0;
    const readKinds = Object.entries(counted).filter(
      ([key]) => key.startsWith('DynamoDB.') && !/Put|Update|Delete|Write/.test(key),
    );
    const reads = readKinds.reduce((sum, [, n]) => sum + n, 0);
    const queryUnits = submitter && reads > 0 ? (submitter.dynamoReadUnits * queries) / reads : 0;
    const resultBytes =
      model.resultBytes ??
      (queries > 0 && recorded > 0 ? Math.max(0, ((queryUnits - queries / 2) * 4096) / recorded - RECORD_OVERHEAD_BYTES) : 0);
    const shape = {
      chunks: status.chunks,
      recorded,
      deliveries,
      unrecorded: Math.max(0, status.chunks - recorded),
      cancelled: status.status === 'cancelled',
      environments: lambdaTime.environments,
      messageBytes,
      resultBytes,
      argumentObjects: model.argumentObjects ?? counted['S3.PutObject'] ?? 0,
      resultObjects: model.resultObjects ?? counted['S3.GetObject'] ?? 0,
      heartbeats: heartbeatsFromRuns(runs, model.visibilityTimeoutSeconds),
      maxReceiveCount: model.maxReceiveCount ?? 5,
    };
    const workers = modelWorkerRequests(shape);
    const invocations = workers.find((figure) => figure.service === 'Lambda' && figure.kind === 'Invocations');
    const lambda = lambdaTimeFromRuns(billed, { ...model, ...(invocations ? { invocations: invocations.requests.point } : {}) });
    const measured = [
      'Lambda time: each chunk’s start and end on its environment (the chunk records); an environment runs one invocation at a time, so the union of its chunks’ intervals is billed at least.',
      'Chunks, deliveries (attempts) and environments: the chunk records and the job’s status.',
    ];
    if (duplicates.length > 0)
      measured.push(
        `Duplicate runs: ${duplicates.length} run(s) that lost the race to record their chunk (stragglers re-run, duplicated deliveries), billed with the rest.`,
      );
    const modelled = [
      `Workers’ requests: the chunk protocol applied to ${recorded} recorded chunk(s), ${deliveries} delivery(ies) and ${shape.unrecorded} unrecorded chunk(s); batches between full (10 messages) and one message each.`,
      `Lambda time around chunks: ${model.invocationOverheadMs ?? 25} ms per invocation, ${model.initMs ?? 250} ms of billed init per cold environment; earlier attempts of retried chunks count in the upper bound only.`,
      `DynamoDB record size: ${Math.round(shape.resultBytes)} bytes of results per chunk (${model.resultBytes !== undefined ? 'given' : queries > 0 ? 'from the read units of the submitter’s result polls' : 'unknown: pass resultBytes for big results'}); one read unit per key read.`,
      'Empty long polls of the event source (its standing cost, not the job’s) are not counted.',
    ];
    if (submitter)
      measured.push('Submitter’s requests: counted by its RequestCounter (exact; units per kind apportioned within a service).');
    else
      modelled.push(
        'Submitter’s requests: not counted; only its sends (one SendMessageBatch per 10 chunks) are modelled, not its reads.',
      );
    const figures = submitter
      ? [...figuresFromCounts(submitter, 'submitter'), ...workers]
      : [...submitterModel(shape.chunks, shape.argumentObjects), ...workers];
    return new JobCost({
      job: { jobId: status.jobId, task: status.task, status: status.status, items: status.total, chunks: status.chunks },
      memoryMb,
      figures,
      lambda,
      lambdaBasis: 'counted',
      measured,
      modelled,
      prices: model.prices,
    });
  }

  /** The report as plain JSON data. */
  toJSON(): JobCostReport {
    return this.report;
  }

  /**
   * The report as a text table: a line per service, kind and side, with requests, billed units
   * and dollars (`best (low–high)` where the bounds differ), then the totals and the notes.
   *
   * @example
   * ```ts
   * process.stdout.write(cost.toText());
   * ```
   */
  toText(): string {
    const r = this.report;
    const header = ['service', 'kind', 'side', 'basis', 'requests', 'billed units', 'dollars'];
    const rows = r.lines.map((line) => [
      line.service,
      line.kind === 'Compute' ? 'Compute (ms billed)' : line.kind,
      line.side,
      line.basis,
      formatBounded(line.requests, formatCount),
      `${formatBounded(line.units, line.unitName === 'GB-seconds' ? formatDecimal : formatCount)} ${line.unitName}`,
      formatBounded(line.dollars, formatDollars),
    ]);
    for (const service of SERVICES) {
      if (r.lines.some((line) => line.service === service)) {
        rows.push([service, 'all', '', '', '', '', formatBounded(r.byService[service], formatDollars)]);
      }
    }
    rows.push(['total', '', '', '', '', '', formatBounded(r.total, formatDollars)]);
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
    const render = (row: string[]) =>
      row
        .map((cell, column) => (column >= 4 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd();
    const lines = [
      `Job ${r.jobId} (task '${r.task}'): ${r.status}, ${formatCount(r.items)} items in ${formatCount(r.chunks)} chunks; ` +
        `${r.lambda.environments} worker environment(s) of ${formatCount(r.memoryMb)} MB, ` +
        `${formatDecimal(r.lambda.gbSeconds.point)} GB-s (${formatDecimal(r.lambda.gbSeconds.low)}–${formatDecimal(r.lambda.gbSeconds.high)})`,
      '',
      render(header),
      render(widths.map((width) => '-'.repeat(width))),
      ...rows.map(render),
      '',
      'Measured:',
      ...r.measured.map((note) => `  - ${note}`),
      'Modelled:',
      ...r.modelled.map((note) => `  - ${note}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}

/** The sends of a job whose submitter was not counted: its job item, a SendMessageBatch per ten chunks, an S3 PUT per big argument. */
function submitterModel(chunks: number, argumentObjects: number): RequestFigure[] {
  const sends = Math.ceil(chunks / 10);
  const job = { low: 1, point: 1, high: 1 };
  const figures: RequestFigure[] = [
    // The job's item, written when it opens.
    {
      service: 'DynamoDB',
      kind: 'PutItem',
      side: 'submitter',
      basis: 'modelled',
      requests: job,
      units: job,
      unitName: 'write units',
    },
    {
      service: 'SQS',
      kind: 'SendMessageBatch',
      side: 'submitter',
      basis: 'modelled',
      requests: { low: sends, point: sends, high: chunks },
      units: { low: sends, point: sends, high: chunks },
      unitName: 'SQS requests',
    },
  ];
  if (argumentObjects > 0) {
    const puts = { low: argumentObjects, point: argumentObjects, high: argumentObjects };
    figures.push({
      service: 'S3',
      kind: 'PutObject',
      side: 'submitter',
      basis: 'modelled',
      requests: puts,
      units: puts,
      unitName: 'PUT requests',
    });
  }
  return figures;
}

function unitPrice(unit: BillingUnit, prices: AwsPrices): number {
  switch (unit) {
    case 'SQS requests':
      return prices.sqsRequest;
    case 'read units':
      return prices.dynamoReadUnit;
    case 'write units':
      return prices.dynamoWriteUnit;
    case 'PUT requests':
      return prices.s3Put;
    case 'GET requests':
      return prices.s3Get;
    case 'invocations':
      return prices.lambdaRequest;
    case 'GB-seconds':
      return prices.lambdaGbSecond;
    case 'requests':
      return 0;
  }
}

function mapBounded(value: Bounded, by: (n: number) => number): Bounded {
  return { low: by(value.low), point: by(value.point), high: by(value.high) };
}

function sumBounded(values: readonly Bounded[]): Bounded {
  const total = { low: 0, point: 0, high: 0 };
  for (const value of values) {
    total.low += value.low;
    total.point += value.point;
    total.high += value.high;
  }
  return total;
}

function checkPositive(option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(option, value, 'a positive number of megabytes, like 1769');
  }
}

function checkStatus(status: unknown): asserts status is JobStatus {
  const s = status as Partial<JobStatus> | undefined;
  if (typeof s !== 'object' || s === null) {
    throw new InvalidArgumentError('JobCost.fromRuns(input): status', status, 'a JobStatus (JobService.status)');
  }
  for (const field of ['total', 'chunks'] as const) {
    const value = s[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new InvalidArgumentError(`JobCost.fromRuns(input): status.${field}`, value, 'a whole number ≥ 0');
    }
  }
  if (typeof s.jobId !== 'string' || typeof s.task !== 'string') {
    throw new InvalidArgumentError('JobCost.fromRuns(input): status.jobId and status.task', s.jobId, 'strings');
  }
}

function formatBounded(value: Bounded, format: (n: number) => string): string {
  const point = format(value.point);
  const low = format(value.low);
  const high = format(value.high);
  return low === high ? point : `${point} (${low}–${high})`;
}

function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function formatDecimal(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

function formatDollars(value: number): string {
  if (value === 0) return '$0';
  return value >= 0.01 ? `$${value.toFixed(4)}` : `$${value.toPrecision(3)}`;
}

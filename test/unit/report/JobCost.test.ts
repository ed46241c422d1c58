import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../../lib/backend/JobService.js';
import { InvalidArgumentError, TimelineInputError } from '../../../lib/errors.js';
import { AWS_PRICES } from '../../../lib/report/awsPrices.js';
import type { ChunkRunRecord } from '../../../lib/report/ChunkTimeline.js';
import { JobCost } from '../../../lib/report/JobCost.js';
import {
  figuresFromCounts,
  heartbeatsFromRuns,
  lambdaTimeFromRuns,
  modelWorkerRequests,
  type RequestFigure,
} from '../../../lib/report/WorkerCostModel.js';

function run(partial: Partial<ChunkRunRecord> & Pick<ChunkRunRecord, 'chunk' | 'worker' | 'startMs' | 'endMs'>): ChunkRunRecord {
  return { thread: 0, attempts: 1, coldStart: false, taskMs: 1, items: 1, status: 'ok', ...partial };
}

/** Two environments: `a` runs two overlapping chunks and a later one; `b` one cold chunk, delivered twice. */
const RUNS: ChunkRunRecord[] = [
  run({ chunk: 0, worker: 'a', thread: 0, startMs: 0, endMs: 100 }),
  run({ chunk: 1, worker: 'a', thread: 1, startMs: 50, endMs: 150 }),
  run({ chunk: 2, worker: 'a', thread: 0, startMs: 300, endMs: 400 }),
  run({ chunk: 3, worker: 'b', thread: 0, startMs: 0, endMs: 200, attempts: 2, coldStart: true }),
];

function status(overrides: Partial<JobStatus> = {}): JobStatus {
  return {
    jobId: '01jcost0000000000000000000',
    task: 'square',
    status: 'succeeded',
    total: 4,
    done: 4,
    failed: 0,
    chunks: 4,
    chunksDone: 4,
    chunksize: 1,
    starmap: false,
    source: 'pool',
    createdAt: '2026-12-02T06:00:00.000Z',
    ...overrides,
  };
}

function figure(figures: RequestFigure[], kind: string, side = 'workers'): RequestFigure {
  const found = figures.find((f) => f.kind === kind && f.side === side);
  if (!found) throw new Error(`no ${side} figure ${kind} in ${figures.map((f) => f.kind).join(', ')}`);
  return found;
}

describe('Lambda time from chunk records', () => {
  it('bounds billed time: union of intervals per environment, span plus overheads above', () => {
    const time = lambdaTimeFromRuns(RUNS, { invocationOverheadMs: 10, initMs: 100, invocations: 2 });
    expect(time.environments).toBe(2);
    expect(time.coldEnvironments).toBe(1);
    expect(time.chunkMs).toBe(100 + 100 + 100 + 200);
    // a: [0,150] ∪ [300,400] = 250; b: 200.
    expect(time.billedMs.low).toBe(450);
    // + 2 invocations × 10 + 1 cold init × 100.
    expect(time.billedMs.point).toBe(570);
    // spans 400 + 200, + 4 chunks × 10, + 100 init, + chunk 3's earlier attempt (200).
    expect(time.billedMs.high).toBe(940);
  });

  it('counts threads of one environment once while they overlap', () => {
    const time = lambdaTimeFromRuns(
      [
        run({ chunk: 0, worker: 'a', thread: 0, startMs: 0, endMs: 100 }),
        run({ chunk: 1, worker: 'a', thread: 1, startMs: 0, endMs: 100 }),
      ],
      { invocationOverheadMs: 0, initMs: 0 },
    );
    expect(time.billedMs).toEqual({ low: 100, point: 100, high: 100 });
    expect(time.chunkMs).toBe(200);
  });

  it('is zero without records', () => {
    expect(lambdaTimeFromRuns([]).billedMs).toEqual({ low: 0, point: 0, high: 0 });
  });

  it('counts heartbeats per half visibility timeout of each chunk', () => {
    expect(heartbeatsFromRuns([{ startMs: 0, endMs: 2500 }], 2)).toBe(2);
    expect(heartbeatsFromRuns([{ startMs: 0, endMs: 999 }], 2)).toBe(0);
    expect(heartbeatsFromRuns([{ startMs: 0, endMs: 5000 }], undefined)).toBe(0);
  });
});

describe('the workers’ request model', () => {
  const shape = {
    chunks: 4,
    recorded: 4,
    deliveries: 5,
    unrecorded: 0,
    cancelled: false,
    environments: 2,
    messageBytes: 0,
    resultBytes: 0,
    argumentObjects: 0,
    resultObjects: 0,
    heartbeats: 0,
    maxReceiveCount: 5,
  };

  it('follows the chunk protocol: a batch per receive, a put per chunk, a visibility change per retry', () => {
    const figures = modelWorkerRequests(shape);
    expect(figure(figures, 'ReceiveMessage').requests).toEqual({ low: 1, point: 2, high: 5 });
    expect(figure(figures, 'DeleteMessageBatch').requests).toEqual({ low: 1, point: 2, high: 5 });
    expect(figure(figures, 'ChangeMessageVisibilityBatch').requests).toEqual({ low: 1, point: 1, high: 1 });
    expect(figure(figures, 'GetQueueAttributes').requests).toEqual({ low: 0, point: 2, high: 2 });
    expect(figure(figures, 'BatchGetItem').requests).toEqual({ low: 1, point: 2, high: 5 });
    // A key per delivered chunk, and per batch the run's cancel marker and the job's item.
    expect(figure(figures, 'BatchGetItem').units).toEqual({ low: 7, point: 9, high: 15 });
    // A plain map's chunks belong to no job: no job item to read.
    expect(figure(modelWorkerRequests({ ...shape, job: false }), 'BatchGetItem').units).toEqual({ low: 6, point: 7, high: 10 });
    expect(figure(figures, 'PutItem').requests).toEqual({ low: 4, point: 4, high: 5 });
    expect(figure(figures, 'PutItem').units).toEqual({ low: 4, point: 4, high: 5 });
    expect(figure(figures, 'UpdateItem').requests).toEqual({ low: 0, point: 0, high: 1 });
    expect(figure(figures, 'Invocations').requests).toEqual({ low: 1, point: 2, high: 5 });
    expect(figures.some((f) => f.service === 'S3')).toBe(false);
  });

  it('bills big records per KB, big payloads through S3, and big messages per 64 KB', () => {
    const figures = modelWorkerRequests({
      ...shape,
      deliveries: 4,
      resultBytes: 3000,
      argumentObjects: 2,
      resultObjects: 1,
      messageBytes: 40 * 1024,
    });
    // 3,000 + 160 bytes: 4 write units a record.
    expect(figure(figures, 'PutItem').units.point).toBe(16);
    expect(figure(figures, 'GetObject').requests.point).toBe(2);
    expect(figure(figures, 'PutObject').requests.point).toBe(1);
    // Point: 2 receives of 2 messages of 40 KB: 80 KB each, 2 units each.
    expect(figure(figures, 'ReceiveMessage').units.point).toBe(4);
  });

  it('counts unrecorded chunks of a cancelled job as received once at most, and recorded as cancelled', () => {
    const figures = modelWorkerRequests({ ...shape, deliveries: 2, recorded: 2, unrecorded: 8, cancelled: true });
    expect(figure(figures, 'ReceiveMessage').requests).toEqual({ low: 1, point: 2, high: 10 });
    expect(figure(figures, 'PutItem').requests).toEqual({ low: 2, point: 10, high: 10 });
  });
});

describe('counted requests as figures', () => {
  it('shares a service’s billed units among its kinds; the totals stay as counted', () => {
    const figures = figuresFromCounts(
      {
        requests: {
          'SQS.SendMessageBatch': 40,
          'SQS.GetQueueAttributes': 2,
          'DynamoDB.Query': 30,
          'S3.PutObject': 3,
          'S3.DeleteObject': 3,
        },
        total: 78,
        sqsBilledRequests: 52,
        dynamoReadUnits: 45,
        dynamoWriteUnits: 0,
      },
      'submitter',
    );
    expect(figure(figures, 'SendMessageBatch', 'submitter').units.point).toBe(50);
    expect(figure(figures, 'GetQueueAttributes', 'submitter').units.point).toBe(2);
    expect(figure(figures, 'Query', 'submitter').units.point).toBe(45);
    expect(figure(figures, 'PutObject', 'submitter').units.point).toBe(3);
    expect(figure(figures, 'DeleteObject', 'submitter').units.point).toBe(0);
    expect(figures.every((f) => f.basis === 'counted')).toBe(true);
  });
});

describe('JobCost', () => {
  it('prices each unit at DESIGN.md’s prices (arm64), hand-checked', () => {
    const exact = (n: number) => ({ low: n, point: n, high: n });
    const line = (
      service: RequestFigure['service'],
      kind: string,
      units: number,
      unitName: RequestFigure['unitName'],
    ): RequestFigure => ({
      service,
      kind,
      side: 'workers',
      basis: 'modelled',
      requests: exact(units),
      units: exact(units),
      unitName,
    });
    const cost = new JobCost({
      job: { jobId: 'j', task: 't', status: 'succeeded', items: 1, chunks: 1 },
      memoryMb: 1024,
      figures: [
        line('SQS', 'ReceiveMessage', 1e6, 'SQS requests'),
        line('DynamoDB', 'PutItem', 2e6, 'write units'),
        line('DynamoDB', 'BatchGetItem', 4e6, 'read units'),
        line('S3', 'PutObject', 1000, 'PUT requests'),
        line('S3', 'GetObject', 10_000, 'GET requests'),
        line('Lambda', 'Invocations', 1e6, 'invocations'),
      ],
      // One hour at 1 GB: 3,600 GB-s.
      lambda: { environments: 1, coldEnvironments: 0, chunkMs: 3.6e6, billedMs: exact(3.6e6) },
      lambdaBasis: 'counted',
      measured: [],
      modelled: [],
    }).toJSON();
    expect(cost.byService.SQS.point).toBeCloseTo(0.4, 10);
    expect(cost.byService.DynamoDB.point).toBeCloseTo(1.25 + 0.5, 10);
    expect(cost.byService.S3.point).toBeCloseTo(0.005 + 0.004, 10);
    expect(cost.lambda.gbSeconds.point).toBeCloseTo(3600, 10);
    expect(cost.byService.Lambda.point).toBeCloseTo(0.2 + 3600 * 0.0000133334, 10);
    expect(cost.total.point).toBeCloseTo(2.40700024, 10);
    expect(cost.prices).toEqual(AWS_PRICES);
  });

  it('reckons a job from its records: GB-s bounds at the memory, the worker model, the submitter modelled when not counted', () => {
    const cost = JobCost.fromRuns({
      status: status(),
      chunkRuns: RUNS,
      memoryMb: 2048,
      model: { invocationOverheadMs: 10, initMs: 100 },
    });
    const report = cost.toJSON();
    // 450 / 570 / 940 ms at 2 GB.
    expect(report.lambda.gbSeconds.low).toBeCloseTo(0.9, 10);
    expect(report.lambda.gbSeconds.point).toBeCloseTo(1.14, 10);
    expect(report.lambda.gbSeconds.high).toBeCloseTo(1.88, 10);
    const compute = report.lines.find((l) => l.kind === 'Compute')!;
    expect(compute.dollars.point).toBeCloseTo(1.14 * 0.0000133334, 15);
    const send = report.lines.find((l) => l.kind === 'SendMessageBatch')!;
    expect(send).toMatchObject({ side: 'submitter', basis: 'modelled', requests: { low: 1, point: 1, high: 4 } });
    expect(report.total.low).toBeLessThanOrEqual(report.total.point);
    expect(report.total.point).toBeLessThanOrEqual(report.total.high);
    const sum = report.lines.reduce((total, l) => total + l.dollars.point, 0);
    expect(report.total.point).toBeCloseTo(sum, 15);
  });

  it('bills duplicate runs (a straggler’s losing copy) with the rest: their time and their delivery', () => {
    const base = JobCost.fromRuns({ status: status(), chunkRuns: RUNS, memoryMb: 1024 }).toJSON();
    const withDuplicate = JobCost.fromRuns({
      status: status(),
      chunkRuns: RUNS,
      // Chunk 3 ran again on environment c for 500 ms, and lost the race to record it.
      duplicateRuns: [run({ chunk: 3, worker: 'c', thread: 0, startMs: 0, endMs: 500 })],
      memoryMb: 1024,
    }).toJSON();
    // 450 ms of union before, 950 after, at 1 GB.
    expect(base.lambda.gbSeconds.low).toBeCloseTo(0.45, 10);
    expect(withDuplicate.lambda.gbSeconds.low).toBeCloseTo(0.95, 10);
    expect(withDuplicate.total.point).toBeGreaterThan(base.total.point);
    expect(withDuplicate.measured.some((line) => line.startsWith('Duplicate runs: 1 run'))).toBe(true);
  });

  it('takes the submitter’s counts as exact, and its S3 PUTs as the chunks with arguments in S3', () => {
    const report = JobCost.fromRuns({
      status: status(),
      chunkRuns: RUNS,
      memoryMb: 1769,
      submitter: {
        requests: { 'SQS.SendMessageBatch': 1, 'DynamoDB.Query': 7, 'S3.PutObject': 2 },
        total: 10,
        sqsBilledRequests: 1,
        dynamoReadUnits: 7,
        dynamoWriteUnits: 0,
      },
    }).toJSON();
    expect(report.lines.find((l) => l.kind === 'Query')).toMatchObject({
      side: 'submitter',
      basis: 'counted',
      requests: { point: 7 },
    });
    expect(report.lines.find((l) => l.kind === 'GetObject' && l.side === 'workers')?.requests.low).toBe(2);
  });

  it('renders a table with a line per kind and the totals', () => {
    const text = JobCost.fromRuns({ status: status(), chunkRuns: RUNS, memoryMb: 1769 }).toText();
    expect(text).toMatch(/^Job 01jcost0000000000000000000 \(task 'square'\): succeeded, 4 items in 4 chunks/);
    expect(text).toMatch(/SQS\s+ReceiveMessage\s+workers\s+modelled\s+2 \(1–5\)/);
    expect(text).toMatch(/Lambda\s+Compute \(ms billed\)/);
    expect(text).toMatch(/\ntotal\s+\$[0-9.e-]+ \(\$[0-9.e-]+–\$[0-9.e-]+\)\n/);
    expect(text).toContain('Measured:');
    expect(text).toContain('Modelled:');
  });

  it('refuses bad input with errors that name the field', () => {
    expect(() => JobCost.fromRuns({ status: status(), chunkRuns: RUNS, memoryMb: 0 })).toThrow(InvalidArgumentError);
    expect(() => JobCost.fromRuns({ status: status(), chunkRuns: RUNS, memoryMb: 0 })).toThrow(/memoryMb/);
    expect(() => JobCost.fromRuns({ status: status({ chunks: -1 }), chunkRuns: RUNS, memoryMb: 1769 })).toThrow(/status\.chunks/);
    expect(() => JobCost.fromRuns({ status: status(), chunkRuns: [{ ...RUNS[0]!, endMs: -5 }], memoryMb: 1769 })).toThrow(
      TimelineInputError,
    );
    expect(() => JobCost.fromRuns(undefined as never)).toThrow(InvalidArgumentError);
  });
});

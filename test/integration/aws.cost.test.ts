import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../lib/backend/JobService.js';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import type { AwsPoolEngine } from '../../lib/backends/aws/AwsPoolEngine.js';
import { RequestCounter, type RequestCounts } from '../../lib/backends/aws/RequestCounter.js';
import { ResultTable } from '../../lib/backends/aws/ResultTable.js';
import type { ChunkRunRecord } from '../../lib/report/ChunkTimeline.js';
import { JobCost, type CostLine } from '../../lib/report/JobCost.js';
import { echo, square } from '../fixtures/tasks.js';
import { awsContext, provisionForTest, startFleet } from './awsHarness.js';

/** A pool run's status as a JobService would report it (every chunk recorded). */
function poolRunStatus(jobId: string, task: string, total: number, chunks: number, chunksize: number): JobStatus {
  return {
    jobId,
    task,
    status: 'succeeded',
    total,
    done: total,
    failed: 0,
    chunks,
    chunksDone: chunks,
    chunksize,
    starmap: false,
    source: 'pool',
    createdAt: new Date().toISOString(),
  };
}

/** `after - before`, kind by kind (`before`: requests completed, units counted). */
function minus(after: RequestCounts, before: RequestCounts): RequestCounts {
  const requests: Record<string, number> = {};
  for (const [kind, count] of Object.entries(after.requests)) {
    const delta = count - (before.requests[kind] ?? 0);
    if (delta > 0) requests[kind] = delta;
  }
  return {
    requests,
    total: after.total - before.total,
    sqsBilledRequests: after.sqsBilledRequests - before.sqsBilledRequests,
    dynamoReadUnits: after.dynamoReadUnits - before.dynamoReadUnits,
    dynamoWriteUnits: after.dynamoWriteUnits - before.dynamoWriteUnits,
  };
}

interface Measured {
  cost: ReturnType<JobCost['toJSON']>;
  runs: ChunkRunRecord[];
  /** The fleet's requests while it ran the job, by kind. */
  workers: RequestCounts;
  /** Non-empty batches the fleet handled (its ReceiveMessage that returned messages). */
  batches: number;
}

/** Runs a map on a fresh fleet, then reckons its cost from the records and the submitter's counts. */
async function runAndReckon(
  prefix: string,
  work: (
    pool: InstanceType<ReturnType<typeof awsContext>['context']['Pool']>,
  ) => Promise<{ task: string; items: number; chunksize: number }>,
): Promise<Measured> {
  const config = await provisionForTest(prefix);
  const fleetCounter = new RequestCounter();
  const fleet = startFleet(config, { threads: 2, counter: fleetCounter });
  const clients = new AwsClients(config);
  const { context, counter } = awsContext(config);
  try {
    await fleet.ready;
    // What the fleet did to start (one GetQueueAttributes for the queue's ARN) is not the job's.
    // (A snapshot now would not do: the first long polls are in flight, their units not yet counted.)
    expect(fleetCounter.snapshot().requests['SQS.GetQueueAttributes']).toBe(1);
    const before: RequestCounts = {
      requests: { 'SQS.GetQueueAttributes': 1 },
      total: 1,
      sqsBilledRequests: 1,
      dynamoReadUnits: 0,
      dynamoWriteUnits: 0,
    };
    const pool = new context.Pool(4);
    const { task, items, chunksize } = await work(pool);
    pool.close();
    await pool.join();
    // After the fleet stops: a batch's delete follows its puts, which the pool may have read already.
    const summary = await fleet.stop();
    const workers = minus(fleetCounter.snapshot(), before);
    const run = (pool as unknown as { engine: AwsPoolEngine }).engine.run;
    const runs = await new ResultTable(clients.dynamodb, config.table).chunkRuns(run);
    const cost = JobCost.fromRuns({
      status: poolRunStatus(run, task, items, runs.length, chunksize),
      chunkRuns: runs,
      memoryMb: 1769,
      submitter: counter.snapshot(),
    }).toJSON();
    return { cost, runs, workers, batches: summary.invocations };
  } finally {
    clients.destroy();
    await fleet.stop();
  }
}

function workerLine(cost: Measured['cost'], service: string, kind: string): CostLine | undefined {
  return cost.lines.find((line) => line.side === 'workers' && line.service === service && line.kind === kind);
}

/** The modelled figure of a kind holds the counted one within its bounds. */
function expectWithin(cost: Measured['cost'], key: string, counted: number): void {
  const [service, kind] = key.split('.') as [string, string];
  const line = workerLine(cost, service, kind);
  const bounds = line?.requests ?? { low: 0, point: 0, high: 0 };
  expect({ key, counted, inBounds: counted >= bounds.low && counted <= bounds.high, bounds }).toMatchObject({ inBounds: true });
}

function report(label: string, measured: Measured): void {
  const modelled = Object.fromEntries(
    measured.cost.lines.filter((l) => l.side === 'workers').map((l) => [`${l.service}.${l.kind}`, l.requests]),
  );
  console.log(
    `${label}: ${measured.runs.length} chunks, ${measured.batches} batches; counted on the fleet`,
    measured.workers.requests,
    `units r/w ${measured.workers.dynamoReadUnits}/${measured.workers.dynamoWriteUnits}, sqs ${measured.workers.sqsBilledRequests}; modelled`,
    modelled,
  );
}

// The cost model of the workers' side, checked against the requests a real worker fleet (the
// worker handler, in this process) made on the emulators, counted by its RequestCounter.
describe('the job cost model against the requests counted on the emulators (a worker fleet)', () => {
  it('tiny items: every worker request kind within the model’s bounds; puts, deletes and batch reads as modelled', async () => {
    const measured = await runAndReckon('cost-tiny', async (pool) => {
      const items = Array.from({ length: 200 }, (_, i) => i);
      expect(await pool.map(square, items, { chunksize: 5 })).toEqual(items.map((x) => x * x));
      return { task: square.taskName, items: items.length, chunksize: 5 };
    });
    report('tiny', measured);
    const { cost, workers, batches } = measured;
    const receives = workerLine(cost, 'SQS', 'ReceiveMessage')!.requests;
    expect(measured.runs.length).toBe(40);
    // Exact where the protocol fixes it: one put per chunk, one read and one delete per batch.
    expect(workers.requests['DynamoDB.PutItem']).toBe(workerLine(cost, 'DynamoDB', 'PutItem')!.requests.point);
    expect(workers.requests['DynamoDB.BatchGetItem']).toBe(batches);
    expect(workers.requests['SQS.DeleteMessageBatch']).toBe(batches);
    expectWithin(cost, 'SQS.ReceiveMessage', batches);
    expectWithin(cost, 'SQS.DeleteMessageBatch', workers.requests['SQS.DeleteMessageBatch'] ?? 0);
    expectWithin(cost, 'DynamoDB.BatchGetItem', workers.requests['DynamoDB.BatchGetItem'] ?? 0);
    expectWithin(cost, 'SQS.GetQueueAttributes', workers.requests['SQS.GetQueueAttributes'] ?? 0);
    expectWithin(cost, 'SQS.ChangeMessageVisibilityBatch', workers.requests['SQS.ChangeMessageVisibilityBatch'] ?? 0);
    // Nothing outside the model (empty long polls aside: the counted receives include them).
    const known = new Set(cost.lines.filter((l) => l.side === 'workers').map((l) => `${l.service}.${l.kind}`));
    known.add('SQS.ReceiveMessage');
    expect(Object.keys(workers.requests).filter((kind) => !known.has(kind))).toEqual([]);
    // Billed units as modelled: a write unit per small record, a read unit per key read, and
    // SQS units per request (tiny messages) once the empty long polls are taken out.
    expect(workers.dynamoWriteUnits).toBe(workerLine(cost, 'DynamoDB', 'PutItem')!.units.point);
    expect(workers.dynamoReadUnits).toBe(workerLine(cost, 'DynamoDB', 'BatchGetItem')!.units.point);
    const emptyPolls = (workers.requests['SQS.ReceiveMessage'] ?? 0) - batches;
    const sqsUnits = cost.lines
      .filter((l) => l.side === 'workers' && l.service === 'SQS')
      .reduce((sum, l) => sum + l.units.point, 0);
    expect(workers.sqsBilledRequests - emptyPolls).toBe(sqsUnits - receives.point + batches);
    // The model's best figure of batches against the real one.
    expect(receives.point / batches).toBeGreaterThan(0.5);
    expect(receives.point / batches).toBeLessThan(2);
    // Lambda time: at least the task time spread over the two threads; the bounds ordered.
    const taskMs = measured.runs.reduce((sum, r) => sum + r.taskMs, 0);
    const billed = cost.lambda.billedMs;
    expect(billed.low).toBeGreaterThanOrEqual(taskMs / 2 - 1);
    expect(billed.low).toBeLessThanOrEqual(billed.point);
    expect(billed.point).toBeLessThanOrEqual(billed.high);
    expect(cost.total.point).toBeGreaterThan(0);
  }, 120_000);

  it('big arguments and results through S3: a GET per delivery and a PUT per result object, as the submitter’s counts imply', async () => {
    const text = 'x'.repeat(400 * 1024);
    const measured = await runAndReckon('cost-big', async (pool) => {
      const items = Array.from({ length: 4 }, (_, i) => `${i}${text}`);
      const results = await pool.map(echo, items, { chunksize: 1 });
      expect(results.map((r) => (r as string).length)).toEqual(items.map((item) => item.length));
      return { task: echo.taskName, items: items.length, chunksize: 1 };
    });
    report('big', measured);
    const { cost, workers } = measured;
    expect(workers.requests['S3.GetObject']).toBe(workerLine(cost, 'S3', 'GetObject')!.requests.point);
    expect(workers.requests['S3.PutObject']).toBe(workerLine(cost, 'S3', 'PutObject')!.requests.point);
    expect(workers.requests['S3.GetObject']).toBe(4);
    expect(workers.requests['S3.PutObject']).toBe(4);
    expectWithin(cost, 'SQS.ReceiveMessage', measured.batches);
    expect(workers.requests['DynamoDB.PutItem']).toBe(4);
  }, 120_000);
});

import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../lib/backend/JobService.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { RequestCounter, type RequestCounts } from '../../lib/backends/aws/RequestCounter.js';
import { countsSince } from '../../lib/backends/aws/RequestCounts.js';
import type { CommandContext } from '../../lib/cli/CommandContext.js';
import { addJobsCostCommand } from '../../lib/cli/costCommands.js';
import type { ChunkRunRecord } from '../../lib/report/ChunkTimeline.js';
import { JobCost, type CostLine } from '../../lib/report/JobCost.js';
import { echo, square } from '../fixtures/tasks.js';
import { awsContext, provisionForTest, startFleet, waitFor } from './awsHarness.js';

interface Measured {
  status: JobStatus;
  cost: ReturnType<JobCost['toJSON']>;
  runs: ChunkRunRecord[];
  /** The fleet's requests while it ran the job, by kind. */
  workers: RequestCounts;
  /** Non-empty batches the fleet handled (its ReceiveMessage that returned messages). */
  batches: number;
}

/**
 * Runs a job (a `mapAsync`) on a fresh fleet, then reckons its cost from what the job service
 * says of it (status, chunk records) and the submitter's counts.
 */
async function runAndReckon(
  prefix: string,
  work: (pool: InstanceType<ReturnType<typeof awsContext>['context']['Pool']>) => Promise<string>,
): Promise<Measured> {
  const config = await provisionForTest(prefix);
  const fleetCounter = new RequestCounter();
  const fleet = startFleet(config, { threads: 2, counter: fleetCounter });
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
    const jobId = await work(pool);
    pool.close();
    await pool.join();
    // After the fleet stops: a batch's delete follows its puts, which the pool may have read already.
    const summary = await fleet.stop();
    const workers = countsSince(fleetCounter.snapshot(), before);
    const jobs = new AwsBackend({ config }).jobs();
    const status = await jobs.status(jobId);
    const runs = await jobs.chunkRuns(jobId);
    const cost = JobCost.fromRuns({
      status,
      chunkRuns: runs,
      memoryMb: 1769,
      submitter: counter.snapshot(),
    }).toJSON();
    return { status, cost, runs, workers, batches: summary.invocations };
  } finally {
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
    'submitter (counted)',
    Object.fromEntries(
      measured.cost.lines.filter((l) => l.side === 'submitter').map((l) => [`${l.service}.${l.kind}`, l.requests.point]),
    ),
  );
}

// The cost model of the workers' side, checked against the requests a real worker fleet (the
// worker handler, in this process) made on the emulators, counted by its RequestCounter.
describe('the job cost model against the requests counted on the emulators (a worker fleet)', () => {
  it('tiny items: every worker request kind within the model’s bounds; puts, deletes and batch reads as modelled', async () => {
    const measured = await runAndReckon('cost-tiny', async (pool) => {
      const items = Array.from({ length: 200 }, (_, i) => i);
      const result = pool.mapAsync(square, items, { chunksize: 5 });
      expect(await result.get()).toEqual(items.map((x) => x * x));
      return result.job!.id;
    });
    report('tiny', measured);
    const { cost, workers, batches } = measured;
    const receives = workerLine(cost, 'SQS', 'ReceiveMessage')!.requests;
    expect(measured.runs.length).toBe(40);
    expect(measured.status).toMatchObject({ status: 'succeeded', total: 200, chunks: 40, chunksDone: 40 });
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
      const result = pool.mapAsync(echo, items, { chunksize: 1 });
      expect((await result.get()).map((r) => (r as string).length)).toEqual(items.map((item) => item.length));
      return result.job!.id;
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

describe('fanout jobs cost against the job service on the emulators (a worker fleet)', () => {
  it('reckons a job submitted as the HTTP API does, from its status and chunk records: a table and JSON', async () => {
    const config = await provisionForTest('cost-cli');
    const jobs = new AwsBackend({ config }).jobs();
    const { jobId } = await jobs.submit({ task: square.taskName, items: Array.from({ length: 30 }, (_, i) => i), chunksize: 3 });
    const fleet = startFleet(config, { threads: 2, tasks: [fileURLToPath(new URL('../fixtures/tasks.ts', import.meta.url))] });
    try {
      await fleet.ready;
      await waitFor(async () => (await jobs.status(jobId)).status === 'succeeded', 60_000, 'the job to succeed');
    } finally {
      await fleet.stop();
    }
    const run = async (args: string[]) => {
      let out = '';
      let err = '';
      const context: CommandContext = {
        output: {
          stdout: { write: (text: string) => ((out += text), true) },
          stderr: { write: (text: string) => ((err += text), true) },
        },
        services: {},
        cwd: process.cwd(),
        passthrough: [],
        exitCode: 0,
      };
      const program = new Command('fanout').exitOverride();
      addJobsCostCommand(program.command('jobs'), context, { jobs: async () => jobs });
      await program.parseAsync(['jobs', 'cost', ...args], { from: 'user' });
      return { code: context.exitCode, out, err };
    };
    const text = await run([jobId]);
    expect(text).toMatchObject({ code: 0, err: '' });
    expect(text.out).toMatch(
      new RegExp(`^Job ${jobId} \\(task 'square'\\): succeeded, 30 items in 10 chunks; 1 worker environment\\(s\\) of 1,769 MB`),
    );
    const json = await run([jobId, '--json', '--memory', '3538']);
    const report = JSON.parse(json.out) as ReturnType<JobCost['toJSON']>;
    expect(report).toMatchObject({ jobId, task: 'square', status: 'succeeded', items: 30, chunks: 10, memoryMb: 3538 });
    const puts = report.lines.find((l) => l.side === 'workers' && l.kind === 'PutItem');
    expect(puts?.requests.point).toBe(10);
    expect(report.lambda.environments).toBe(1);
    expect(report.total.point).toBeGreaterThan(0);
    const missing = await run(['0'.repeat(26)]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^fanout jobs cost: No job '0{26}'/);
  }, 120_000);
});

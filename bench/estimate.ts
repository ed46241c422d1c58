/**
 * The estimate's bench (issue 10: "the estimate within 25% of the measured time and cost"): on
 * the emulators started here, with an in-process worker fleet as the Lambda, for three task
 * shapes (tiny, waiting, CPU-bound), `estimateJob` predicts from a small sample, then the job
 * runs for real on a fresh pool and fleet; predicted against measured wall time and dollars, the
 * medians of several such rounds (`--reps`, 3 at least), each round's ratio in the notes.
 * Measured dollars: every request counted (the pool's and the fleet's counters, the fleet's
 * empty long polls taken out) at its billed units, Lambda invocations as the fleet's non-empty
 * batches, and Lambda time as the union of the fleet's invocations (the time its one environment
 * was busy; no init: the fleet has none).
 *
 *   npm run bench -- --only estimate      (or: npx tsx bench/estimate.ts [--quick])
 */
import { pathToFileURL } from 'node:url';
import { Context, type Task } from 'fanout';
import { handler } from '../functions/worker/handler.js';
import { AwsBackend } from '../lib/backends/aws/AwsBackend.js';
import type { AwsConfig } from '../lib/backends/aws/AwsConfig.js';
import { provisionResources, startEmulators } from '../lib/backends/aws/emulator.js';
import { RequestCounter, type RequestCounts } from '../lib/backends/aws/RequestCounter.js';
import { countsSince } from '../lib/backends/aws/RequestCounts.js';
import { runWorkerFleet, type SqsBatchHandler, type WorkerFleetSummary } from '../lib/backends/aws/WorkerFleet.js';
import { JobCost, type JobCostReport } from '../lib/report/JobCost.js';
import { estimateJob, type JobEstimate } from '../lib/report/JobEstimator.js';
import { exact, figuresFromCounts, lambdaTimeFromRuns } from '../lib/report/WorkerCostModel.js';
import { median } from '../lib/util/median.js';
import { estimateSleep, estimateSpin, estimateSquare } from './estimateTasks.js';
import { benchRow, renderText, toTextTables, type BenchOptions, type BenchRow, type BenchTable } from './report.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The fleet: one environment of two threads (a 3,538 MB Lambda has two vCPUs) whose pollers
 * share the threads; for the estimate it is two environments of one thread (1,769 MB each) that
 * take one chunk at a time: the same lanes and the same GB-s.
 */
const THREADS = 2;
const MEMORY_MB = 3538;
/** The pool's processes: chunks of ⌈items / 16⌉, 16 chunks, 8 waves on the fleet's two threads. */
const PROCESSES = 4;
const TARGET = { of: 'ratio', atLeast: 0.75, atMost: 1.25 } as const;

interface Shape {
  name: string;
  task: Task<[number], unknown>;
  items: number[];
}

function shapes(quick: boolean): Shape[] {
  const scale = quick ? 0.25 : 1;
  const count = (n: number) => Math.max(16, Math.round(n * scale));
  return [
    { name: 'tiny (x²)', task: estimateSquare, items: Array.from({ length: count(20_000) }, (_, i) => i) },
    { name: 'waits 10 ms', task: estimateSleep, items: Array.from({ length: count(800) }, () => 10) },
    { name: 'CPU 2 ms', task: estimateSpin, items: Array.from({ length: count(1000) }, () => 2) },
  ];
}

/**
 * Runs the estimate's bench (the `estimate` section of `npm run bench`) and returns its tables.
 *
 * @example
 * ```ts
 * const tables = await runEstimateBench({ quick: true, full: false, reps: 1, cases: [] });
 * ```
 */
export async function runEstimateBench(options: BenchOptions): Promise<BenchTable[]> {
  const emulators = await startEmulators();
  const tables: BenchTable[] = [];
  try {
    const config = await provisionResources(emulators.endpoints, { name: 'bench-estimate' });
    // A job of a fraction of a second varies by half from one run to the next on this machine:
    // each round estimates and then runs it, and the table compares the medians.
    const rounds = options.quick ? 1 : Math.max(3, options.reps);
    for (const shape of shapes(options.quick)) {
      if (options.cases.length > 0 && !options.cases.some((c) => shape.name.startsWith(c))) continue;
      const pairs: Pair[] = [];
      for (let round = 0; round < rounds; round++) pairs.push(await estimateAndMeasure(config, shape));
      tables.push(table(shape, pairs));
    }
    return tables;
  } finally {
    await emulators.stop();
  }
}

interface Pair {
  estimate: JobEstimate;
  measured: Measured;
}

/** One round: the estimate on a fresh pool and fleet, then the job on another. */
async function estimateAndMeasure(config: AwsConfig, shape: Shape): Promise<Pair> {
  const estimate = await withFleet(config, async (context) => {
    await using pool = new context.Pool(PROCESSES);
    return await estimateJob(pool, shape.task, shape.items, {
      workers: THREADS,
      threadsPerWorker: 1,
      batchSize: 1,
      memoryMb: MEMORY_MB / THREADS,
      model: { initMs: 0 },
    });
  });
  const measured = await measureJob(config, shape);
  return { estimate: estimate.result, measured };
}

interface Measured {
  wallMs: number;
  /** From the chunk records: task time per item, and a chunk's mean length (start to end). */
  perItemMs: number;
  chunkMs: number;
  cost: JobCostReport;
  /** The report `fanout jobs cost` gives (workers modelled from the records). */
  report: JobCostReport;
  fleet: WorkerFleetSummary;
  submitter: RequestCounts;
}

/**
 * Runs `work` with a fresh fleet (one environment), after `warmUp` if given, and returns its
 * result and the fleet's counts: its invocations, requests and busy time during `work` alone.
 */
async function withFleet<T>(
  config: AwsConfig,
  work: (context: Context, counter: RequestCounter) => Promise<T>,
  warmUp?: (context: Context) => Promise<void>,
): Promise<{ result: T; fleet: WorkerFleetSummary; fleetCounts: RequestCounts; invocations: number; busyMs: number }> {
  const fleetCounter = new RequestCounter();
  // When the fleet's environment was busy: the union of its invocations (Lambda bills those).
  const invocations: Array<[number, number]> = [];
  const timed: SqsBatchHandler = async (event, context) => {
    const start = performance.now();
    try {
      return await handler(event, context);
    } finally {
      invocations.push([start, performance.now()]);
    }
  };
  const stop = new AbortController();
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = () => resolve()));
  const fleet = runWorkerFleet({
    config,
    handler: timed,
    threads: THREADS,
    concurrency: THREADS * 2,
    waitTimeSeconds: 2,
    counter: fleetCounter,
    signal: stop.signal,
    onReady: ready,
  });
  await Promise.race([started, fleet]);
  const counter = new RequestCounter();
  const context = new Context(new AwsBackend({ config, counter }));
  try {
    if (warmUp) await warmUp(context);
    const countsBefore = fleetCounter.snapshot();
    const invocationsBefore = invocations.length;
    const result = await work(context, counter);
    const summary = await stopFleet();
    const during = invocations.slice(invocationsBefore);
    return {
      result,
      fleet: summary,
      fleetCounts: countsSince(fleetCounter.snapshot(), countsBefore),
      invocations: during.length,
      busyMs: unionMs(during),
    };
  } finally {
    if (!stop.signal.aborted) await stopFleet().catch(() => {});
  }
  function stopFleet(): Promise<WorkerFleetSummary> {
    stop.abort();
    return fleet;
  }
}

async function measureJob(config: AwsConfig, shape: Shape): Promise<Measured> {
  let jobId = '';
  let wallMs = 0;
  let submitter!: RequestCounts;
  const { fleet, fleetCounts, invocations, busyMs } = await withFleet(
    config,
    async (context, counter) => {
      const countsBefore = counter.snapshot();
      const pool = new context.Pool(PROCESSES);
      const begin = performance.now();
      // A job (mapAsync), as `fanout jobs cost` sees one: its status and records through the job service.
      const result = pool.mapAsync(shape.task, shape.items);
      await result.get();
      wallMs = performance.now() - begin;
      jobId = result.job!.id;
      pool.close();
      await pool.join();
      submitter = countsSince(counter.snapshot(), countsBefore);
    },
    // As the estimate's warm-up does, and as Lambda's environments are warm after the estimate:
    // a chunk per thread first, so the job is timed on threads that have run the task.
    async (context) => {
      await using pool = new context.Pool(PROCESSES);
      await pool.map(shape.task, shape.items.slice(0, THREADS), { chunksize: 1 });
    },
  );
  const jobs = new AwsBackend({ config }).jobs();
  const status = await jobs.status(jobId);
  const runs = await jobs.chunkRuns(jobId);
  // The fleet's empty long polls and its start-up read of the queue's ARN are not the job's.
  const requests = { ...fleetCounts.requests };
  const emptyPolls = (requests['SQS.ReceiveMessage'] ?? 0) - invocations;
  requests['SQS.ReceiveMessage'] = invocations;
  const workers: RequestCounts = { ...fleetCounts, requests, sqsBilledRequests: fleetCounts.sqsBilledRequests - emptyPolls };
  const records = lambdaTimeFromRuns(runs, { initMs: 0, invocations: invocations });
  const lambda = { ...records, billedMs: exact(busyMs) };
  const job = { jobId, task: status.task, status: status.status, items: status.total, chunks: status.chunks };
  const cost = new JobCost({
    job,
    memoryMb: MEMORY_MB,
    figures: [
      ...figuresFromCounts(submitter, 'submitter'),
      ...figuresFromCounts(workers, 'workers'),
      {
        service: 'Lambda',
        kind: 'Invocations',
        side: 'workers',
        basis: 'counted',
        requests: exact(invocations),
        units: exact(invocations),
        unitName: 'invocations',
      },
    ],
    lambda,
    lambdaBasis: 'counted',
    measured: [],
    modelled: [],
  }).toJSON();
  const report = JobCost.fromRuns({
    status,
    chunkRuns: runs,
    memoryMb: MEMORY_MB,
    submitter,
    model: { initMs: 0 },
  }).toJSON();
  const items = runs.reduce((sum, r) => sum + r.items, 0);
  const perItemMs = runs.reduce((sum, r) => sum + r.taskMs, 0) / Math.max(1, items);
  const chunkMs = runs.reduce((sum, r) => sum + r.endMs - r.startMs, 0) / Math.max(1, runs.length);
  return { wallMs, perItemMs, chunkMs, cost, report, fleet, submitter };
}

function table(shape: Shape, pairs: readonly Pair[]): BenchTable {
  const label = `${shape.name}, ${shape.items.length.toLocaleString('en')} items`;
  const requests = (cost: JobCostReport) =>
    cost.lines.filter((l) => l.kind !== 'Compute' && l.kind !== 'Invocations').reduce((sum, l) => sum + l.requests.point, 0);
  const of = (figure: (pair: Pair) => number) => median(pairs.map(figure));
  // The notes describe the round whose predicted wall time is the median.
  const middle = [...pairs].sort((a, b) => a.estimate.predictedWallMs - b.estimate.predictedWallMs)[
    Math.floor(pairs.length / 2)
  ]!;
  const { estimate, measured } = middle;
  const predicted = estimate.predictedCost;
  const each = (figure: (pair: Pair) => number) =>
    pairs.length > 1 ? `; each round's ratio ${pairs.map((pair) => `${figure(pair).toFixed(2)}×`).join(', ')}` : '';
  const rows: BenchRow[] = [
    benchRow({
      metric: `${label}: wall time`,
      unit: 'ms',
      ours: of((p) => p.estimate.predictedWallMs),
      peer: of((p) => p.measured.wallMs),
      peerName: 'measured',
      target: TARGET,
      note:
        `${estimate.messages} chunks of ${estimate.chunksize} in ${estimate.waves} waves on ${estimate.lanes} lanes; ` +
        `sample ${estimate.sampleItems} items in ${estimate.sampleChunks} chunks (${estimate.sampleWallMs.toFixed(0)} ms): ` +
        `${estimate.perItemMs.toFixed(3)} ms an item (+${estimate.itemOverheadMs.toFixed(4)} ms overhead), ${estimate.perChunkMs.toFixed(1)} ms a chunk, ${estimate.latencyMs.toFixed(1)} ms round trip; ` +
        `the job's records: ${measured.perItemMs.toFixed(3)} ms an item, chunks of ${measured.chunkMs.toFixed(1)} ms; ` +
        `measured ${pairs.map((p) => p.measured.wallMs.toFixed(0)).join(', ')} ms, predicted ${pairs.map((p) => p.estimate.predictedWallMs.toFixed(0)).join(', ')} ms` +
        each((p) => p.estimate.predictedWallMs / p.measured.wallMs),
    }),
    benchRow({
      metric: `${label}: cost`,
      unit: '$',
      ours: of((p) => p.estimate.predictedCost.total.point),
      peer: of((p) => p.measured.cost.total.point),
      peerName: 'measured (requests counted, GB-s of the invocations)',
      target: TARGET,
      note:
        `by service, predicted/measured: ${(['SQS', 'DynamoDB', 'S3', 'Lambda'] as const)
          .map((s) => `${s} ${money(predicted.byService[s].point)}/${money(measured.cost.byService[s].point)}`)
          .join(', ')}` + each((p) => p.estimate.predictedCost.total.point / p.measured.cost.total.point),
    }),
    benchRow({
      metric: `${label}: requests`,
      unit: 'requests',
      ours: of((p) => requests(p.estimate.predictedCost)),
      peer: of((p) => requests(p.measured.cost)),
      peerName: 'counted',
      note: `counted: ${Object.entries(
        measured.cost.lines.reduce<Record<string, number>>((all, l) => {
          if (l.kind !== 'Compute') all[`${l.side === 'submitter' ? 'S' : 'W'}:${l.kind}`] = l.requests.point;
          return all;
        }, {}),
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; predicted: ${predicted.lines
        .filter((l) => l.kind !== 'Compute')
        .map((l) => `${l.side === 'submitter' ? 'S' : 'W'}:${l.kind} ${Math.round(l.requests.point)}`)
        .join(', ')}`,
    }),
    benchRow({
      metric: `${label}: Lambda GB-s`,
      unit: 'GB-s',
      ours: of((p) => p.estimate.predictedCost.lambda.gbSeconds.point),
      peer: of((p) => p.measured.cost.lambda.gbSeconds.point),
      peerName: 'the fleet’s invocations (their union)',
      target: TARGET,
      note:
        `the job's report (chunk records): ${measured.report.lambda.gbSeconds.point.toFixed(2)} GB-s (${measured.report.lambda.gbSeconds.low.toFixed(2)}–${measured.report.lambda.gbSeconds.high.toFixed(2)})` +
        each((p) => p.estimate.predictedCost.lambda.gbSeconds.point / p.measured.cost.lambda.gbSeconds.point),
    }),
    benchRow({
      metric: `${label}: cost report (jobs cost) vs counted`,
      unit: '$',
      ours: of((p) => p.measured.report.total.point),
      peer: of((p) => p.measured.cost.total.point),
      peerName: 'counted',
      target: TARGET,
      note: `the report's bounds ${money(measured.report.total.low)}–${money(measured.report.total.high)}`,
    }),
  ];
  return {
    title: `estimate (emulated aws): ${label}, predicted vs measured, medians of ${pairs.length} round(s)`,
    rows,
    notes: [
      `In one process: fauxqs, dynalite, the client and a worker fleet of ${THREADS} threads as one ${MEMORY_MB} MB environment; a fresh fleet for the sample and for the job, the job's warmed with a chunk per thread before it is timed.`,
    ],
  };
}

/** The length of the union of intervals. */
function unionMs(intervals: Array<[number, number]>): number {
  let total = 0;
  let reach = -Infinity;
  for (const [start, end] of [...intervals].sort((a, b) => a[0] - b[0])) {
    if (end > reach) {
      total += end - Math.max(start, reach);
      reach = end;
    }
  }
  return total;
}

function money(value: number): string {
  return value >= 0.01 ? `$${value.toFixed(4)}` : `$${value.toPrecision(3)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const casesAt = process.argv.indexOf('--cases');
  const cases = casesAt > 0 ? (process.argv[casesAt + 1] ?? '').split(',').filter(Boolean) : [];
  const tables = await runEstimateBench({ quick: process.argv.includes('--quick'), full: false, reps: 1, cases });
  for (const table of toTextTables('estimate', tables)) console.log(`${renderText(table)}\n`);
  process.exit(0);
}

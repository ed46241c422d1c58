import type { Pool } from '../api/Pool.js';
import type { Task } from '../api/task.js';
import { ChunkEncoder } from '../api/ChunkEncoder.js';
import { defaultChunksize } from '../backend/chunks.js';
import { ValueEncoder } from '../codec/ValueEncoder.js';
import { InvalidArgumentError } from '../errors.js';
import { median } from '../util/median.js';
import { JobCost, type JobCostModelOptions, type JobCostReport } from './JobCost.js';
import {
  DEFAULT_INIT_MS,
  DEFAULT_INVOCATION_OVERHEAD_MS,
  modelWorkerRequests,
  type Bounded,
  type RequestFigure,
} from './WorkerCostModel.js';

/** Options of {@link estimateJob}. */
export interface EstimateOptions {
  /**
   * Items the sample runs, taken evenly from the input. @default 1% of the items, 32 at least
   * (all of a smaller input), doubled while the sample runs under a second, up to a tenth of the items
   */
  sampleItems?: number;
  /** The job's chunksize. @default as `pool.map` would choose: ⌈items / (4 × processes)⌉ */
  chunksize?: number;
  /** Each item is an argument array (`starmap`). @default false */
  starmap?: boolean;
  /** Worker environments that run at once (Lambda concurrency). @default pool.processes */
  workers?: number;
  /**
   * Threads per environment: chunks an environment runs at once. @default on aws one per
   * 1,769 MB of `memoryMb` (1 to 6), as the worker sizes its pool; locally 1 (a pool process is one thread)
   */
  threadsPerWorker?: number;
  /**
   * Chunks one invocation takes (the event source's batch size); it runs them on its threads,
   * round after round. @default on aws 10 (the Fanout construct's); locally 1
   */
  batchSize?: number;
  /** The worker Lambda's memory, MB, for GB-seconds. @default 1769 (the Fanout construct's) */
  memoryMb?: number;
  /** What the cost model assumes (see {@link JobCostModelOptions}). */
  model?: JobCostModelOptions;
}

/** What {@link estimateJob} predicts, with what it measured to predict it. */
export interface JobEstimate {
  /** The backend the sample ran on (`aws` when the pool counts AWS requests). */
  backend: 'aws' | 'local';
  items: number;
  chunksize: number;
  /** Chunks of the job, and the SQS messages they make (a chunk over 60 KB of items is split). */
  chunks: number;
  messages: number;
  /** Chunks that run at once: workers × threads per worker. */
  lanes: number;
  /**
   * Rounds of chunks one after another: invocations of `batch` chunks (at most `batchSize`, the
   * messages shared out over the workers) run ⌈batch / threads⌉ rounds each, `workers` at a time.
   */
  waves: number;
  /** Chunks per invocation, and invocations. */
  batch: number;
  invocations: number;
  /** The sample: items run, in how many chunks, its wall time. */
  sampleItems: number;
  sampleChunks: number;
  sampleWallMs: number;
  /** Task time per item, measured on the workers' clocks. */
  perItemMs: number;
  /**
   * Time per chunk beyond its items' task time (pick-up, record, hand-over), from the sample: what
   * is left when {@link itemOverheadMs} is taken out.
   */
  perChunkMs: number;
  /**
   * Time per item beyond its task time (encoding, decoding, its share of the record written and
   * read): the growth of a chunk's overhead with its items, fitted over the sample's runs at
   * doubling chunk sizes; 0 when the sample ran once.
   */
  itemOverheadMs: number;
  /** A one-item chunk's round trip beyond its task time (send, pick-up, record), before the poll that finds it. */
  latencyMs: number;
  /**
   * When the pool's poll finds the last result: chunks of (items a chunk × (perItemMs +
   * itemOverheadMs) + perChunkMs) back in `waves` rounds after `latencyMs`, found by the pool's polls (15 ms after
   * sending, then 10 ms after a find, doubling to 500 ms while nothing comes).
   */
  predictedWallMs: number;
  /** The job's cost, predicted with the model {@link JobCost} uses (on the local backend: what it would cost on aws). */
  predictedCost: JobCostReport;
  /** Encoded bytes per item, and per result. */
  itemBytes: number;
  resultBytes: number;
}

/** Items per chunk message at most: a chunk is split so that a message fits one 64 KB SQS unit. */
const TARGET_MESSAGE_BYTES = 60 * 1024;
/** Argument frames above this go to S3; result frames above the other. */
const INLINE_CHUNK_BYTES = 192 * 1024;
const INLINE_RESULT_BYTES = 350 * 1024;
/** The message's own fields beside its items (job, chunk, task, expiry), bytes. */
const MESSAGE_HEADER_BYTES = 120;
/** The pool's result polls: the first soon after sending, then 10 ms doubling to 500 ms while nothing comes. */
const FIRST_POLL_MS = 15;
const MIN_POLL_MS = 10;
const MAX_POLL_MS = 500;
/** The pool's dead-letter watch: one long poll of 20 s at a time. */
const DEAD_LETTER_POLL_MS = 20_000;
/** The sample's default size: 1% of the items, 32 at least (all of a smaller input). */
const MIN_SAMPLE_ITEMS = 32;
const SAMPLE_SHARE = 0.01;
/** A sample that runs shorter than this is doubled, up to a tenth of the items. */
const MIN_SAMPLE_MS = 1000;
const MAX_SAMPLE_SHARE = 0.1;
/** The sample's chunks: enough to see a chunk's overhead, few enough to run in one or two rounds. */
const SAMPLE_CHUNKS = 4;
/** Round trips of a one-item chunk timed (after a warm-up of a chunk per lane, up to 16); the least is taken. */
const MAX_WARM_UP_CHUNKS = 16;
const PROBES = 3;
/** Repeats of the smallest and the largest sample runs when the largest still ran briefly. */
const SAMPLE_REPEATS = 3;

/**
 * Estimates a job before running it: runs a small sample of its items (taken evenly from the
 * input) through `pool` on its current backend, measures the task time per item (the workers'
 * own clocks), a chunk's round trip and a chunk's overhead, and predicts the whole job's wall
 * time at the pool's concurrency — chunked as `pool.map` chunks, waves of `workers × threads`
 * chunks — and its cost at DESIGN.md's prices with the model of {@link JobCost}: the workers'
 * requests by the chunk protocol, the submitter's sends and result polls, Lambda's GB-seconds.
 * The sample's own results are discarded; its requests are the estimate's only cost.
 *
 * @example
 * ```ts
 * await using pool = new Pool(64);
 * const estimate = await estimateJob(pool, square, items);
 * console.log(`${(estimate.predictedWallMs / 1000).toFixed(1)} s, $${estimate.predictedCost.total.point.toFixed(4)}`);
 * ```
 */
export async function estimateJob<A extends unknown[], R>(
  pool: Pool,
  task: Task<A, R>,
  items: readonly unknown[],
  options: EstimateOptions = {},
): Promise<JobEstimate> {
  if (!Array.isArray(items)) throw new InvalidArgumentError('estimateJob(pool, task, items): items', items, 'an array of items');
  if (items.length === 0) throw new InvalidArgumentError('estimateJob(pool, task, items): items', items, 'a non-empty array');
  const n = items.length;
  const where = 'estimateJob(pool, task, items, options)';
  const sampleItems = Math.min(
    n,
    wholeOption(`${where}: sampleItems`, options.sampleItems) ?? Math.max(MIN_SAMPLE_ITEMS, Math.ceil(n * SAMPLE_SHARE)),
  );
  const chunksize = wholeOption(`${where}: chunksize`, options.chunksize) ?? defaultChunksize(n, pool.processes);
  const memoryMb = positiveOption(`${where}: memoryMb`, options.memoryMb) ?? 1769;
  const workers = wholeOption(`${where}: workers`, options.workers) ?? pool.processes;
  const starmap = options.starmap ?? false;
  const model = options.model ?? {};

  const before = pool.stats();
  const backend: JobEstimate['backend'] = before.requests !== undefined ? 'aws' : 'local';
  const threads =
    wholeOption(`${where}: threadsPerWorker`, options.threadsPerWorker) ??
    (backend === 'aws' ? Math.max(1, Math.min(6, Math.round(memoryMb / 1769))) : 1);
  const lanes = workers * threads;
  const batchSize = wholeOption(`${where}: batchSize`, options.batchSize) ?? (backend === 'aws' ? 10 : 1);
  const plan = (count: number) => {
    const batch = Math.min(batchSize, Math.max(1, Math.ceil(count / workers)));
    const rounds = Math.ceil(batch / threads);
    const invocations = Math.ceil(count / batch);
    return { batch, rounds, invocations, waves: Math.ceil(invocations / workers) * rounds };
  };
  const call = (list: readonly unknown[], chunk: number): Promise<unknown[]> =>
    starmap
      ? pool.starmap(task as never, list as Iterable<never[]>, { chunksize: chunk })
      : pool.map(task as never, list as Iterable<never>, { chunksize: chunk });

  // One-item chunks: first one per lane at once (up to 16), which warms the way (a session, the
  // threads or environments, the task's module); then one at a time: the least of three is a chunk's round trip beyond its task time (each is
  // rounded up to the pool's next result poll, and noise only adds).
  await call(evenly(items, Math.min(n, lanes, MAX_WARM_UP_CHUNKS)), 1);
  const trips: number[] = [];
  for (let probe = 0; probe < PROBES; probe++) {
    const before = pool.stats().busyMs;
    const start = performance.now();
    await call([items[0]], 1);
    trips.push(performance.now() - start - (pool.stats().busyMs - before));
  }
  // A trip ends at the pool's poll that found the result: the chunk was back somewhat earlier.
  // On aws results are found by the pool's polls; locally they arrive as they finish.
  const finish =
    backend === 'aws' ? (arrivals: number[]) => pollTimes(arrivals).last : (arrivals: number[]) => Math.max(0, ...arrivals);
  const latencyMs = unquantize(Math.min(...trips), (latency) => [latency], finish);

  // One run of the sample: `size` items spread over the input, in SAMPLE_CHUNKS chunks.
  const runSample = async (size: number) => {
    const sample = evenly(items, size);
    const chunksize = Math.max(1, Math.ceil(sample.length / SAMPLE_CHUNKS));
    const busyBefore = pool.stats().busyMs;
    const start = performance.now();
    const results = await call(sample, chunksize);
    const wallMs = performance.now() - start;
    const busyMs = pool.stats().busyMs - busyBefore;
    const chunks = Math.ceil(sample.length / chunksize);
    const waves = plan(chunks).waves;
    // The chunk time that, with the pool's polling, makes the run's wall time.
    const chunkMs = unquantize(wallMs, (chunk) => waveArrivals(latencyMs, chunk, waves), finish);
    const overheadMs = Math.max(0, chunkMs - (chunksize * busyMs) / sample.length);
    return { size, sample, results, wallMs, busyMs, chunksize, chunks, overheadMs };
  };

  // The sample, doubled while it runs too briefly to say much (a short run's figures are mostly
  // noise and the pool's polling), unless its size was given.
  const largest = options.sampleItems !== undefined ? sampleItems : Math.max(sampleItems, Math.ceil(n * MAX_SAMPLE_SHARE));
  const runs: Array<Awaited<ReturnType<typeof runSample>>> = [];
  let largestRun = await runSample(sampleItems);
  runs.push(largestRun);
  while (largestRun.wallMs < MIN_SAMPLE_MS && largestRun.size < largest) {
    largestRun = await runSample(Math.min(largest, largestRun.size * 2));
    runs.push(largestRun);
  }
  // Still short at its largest: its figures are a few of the pool's polls. The smallest and the
  // largest runs are repeated (a few times, a couple of seconds at most) and each size's median taken.
  let sampledMs = runs.reduce((sum, run) => sum + run.wallMs, 0);
  if (largestRun.wallMs < MIN_SAMPLE_MS && runs.length > 1) {
    for (let repeat = 0; repeat < SAMPLE_REPEATS && sampledMs < 2 * MIN_SAMPLE_MS; repeat++) {
      for (const size of [runs[0]!.size, largestRun.size]) {
        const run = await runSample(size);
        runs.push(run);
        sampledMs += run.wallMs;
      }
    }
  }
  const sample = largestRun.sample;
  const results = largestRun.results;
  const sampleChunks = largestRun.chunks;
  const sampleWallMs = largestRun.wallMs;
  // Task time per item over every run: the most items timed.
  const perItemMs = runs.reduce((sum, run) => sum + run.busyMs, 0) / runs.reduce((sum, run) => sum + run.sample.length, 0);
  // A short task's chunks are mostly overhead, and part of it grows with the items (encoding,
  // the record's bytes): the job's larger chunks would be underestimated by the sample's
  // overhead alone, so it is split into a part per chunk and a part per item.
  const { perChunkMs, itemOverheadMs } = splitOverhead(medianOverheads(runs));

  const itemBytes = encodedItemBytes(sample, starmap);
  const resultBytes = encodedResultBytes(results);
  const parts = messageParts(n, chunksize, itemBytes);
  const chunks = Math.ceil(n / chunksize);
  const messages = parts.length;
  const { batch, invocations, rounds, waves } = plan(messages);
  const partItems = parts.reduce((sum, count) => sum + count, 0) / messages;
  const chunkMs = partItems * (perItemMs + itemOverheadMs) + perChunkMs;
  const predictedWallMs = finish(waveArrivals(latencyMs, chunkMs, waves));

  const predictedCost = predictCost({
    taskName: task.taskName,
    items: n,
    chunks,
    parts,
    itemBytes,
    resultBytes,
    perItemMs,
    chunkMs,
    latencyMs,
    lanes,
    workers,
    threads,
    invocations,
    rounds,
    waves,
    memoryMb,
    predictedWallMs,
    model,
  });
  return {
    backend,
    items: n,
    chunksize,
    chunks,
    messages,
    lanes,
    waves,
    batch,
    invocations,
    sampleItems: sample.length,
    sampleChunks,
    sampleWallMs,
    perItemMs,
    perChunkMs,
    itemOverheadMs,
    latencyMs,
    predictedWallMs,
    predictedCost,
    itemBytes,
    resultBytes,
  };
}

interface Prediction {
  taskName: string;
  items: number;
  chunks: number;
  /** Items of each message. */
  parts: number[];
  itemBytes: number;
  resultBytes: number;
  perItemMs: number;
  chunkMs: number;
  latencyMs: number;
  lanes: number;
  workers: number;
  threads: number;
  invocations: number;
  rounds: number;
  waves: number;
  memoryMb: number;
  predictedWallMs: number;
  model: JobCostModelOptions;
}

/** The cost of the predicted job, with the figures JobCost prices. */
function predictCost(p: Prediction): JobCostReport {
  const messages = p.parts.length;
  let argumentObjects = 0;
  let resultObjects = 0;
  let messageBytes = 0;
  let recordBytes = 0;
  for (const count of p.parts) {
    const frame = MESSAGE_HEADER_BYTES + count * p.itemBytes;
    if (frame > INLINE_CHUNK_BYTES) {
      argumentObjects++;
      messageBytes += (MESSAGE_HEADER_BYTES * 4) / 3 + 60;
    } else messageBytes += (frame * 4) / 3;
    const results = 40 + count * p.resultBytes;
    if (results > INLINE_RESULT_BYTES) resultObjects++;
    else recordBytes += results;
  }
  const environments = Math.min(p.workers, messages);
  const visibility = p.model.visibilityTimeoutSeconds;
  const heartbeats = visibility && visibility >= 1 ? messages * Math.floor(p.chunkMs / ((visibility * 1000) / 2)) : 0;
  const workers = modelWorkerRequests({
    chunks: messages,
    recorded: messages,
    deliveries: messages,
    unrecorded: 0,
    cancelled: false,
    environments,
    messageBytes: messageBytes / messages,
    resultBytes: recordBytes / Math.max(1, messages - resultObjects),
    argumentObjects,
    resultObjects,
    heartbeats,
    maxReceiveCount: p.model.maxReceiveCount ?? 5,
  });
  // An invocation is billed while its rounds of chunks run (a chunk's time as the sample saw
  // it: its task time and the overheads around it); at least the task time spread over its threads.
  const overheadMs = p.model.invocationOverheadMs ?? DEFAULT_INVOCATION_OVERHEAD_MS;
  const initMs = (p.model.initMs ?? DEFAULT_INIT_MS) * environments;
  const busyMs = p.perItemMs * p.items;
  const billedMs: Bounded = {
    low: busyMs / Math.max(1, Math.min(p.threads, Math.ceil(messages / p.invocations))),
    point: p.invocations * p.rounds * p.chunkMs + initMs,
    high: messages * p.chunkMs + p.invocations * overheadMs + initMs,
  };
  const submitter = submitterFigures(p, messages, messageBytes, argumentObjects, resultObjects, recordBytes);
  return new JobCost({
    job: { jobId: '(estimate)', task: p.taskName, status: 'queued', items: p.items, chunks: messages },
    memoryMb: p.memoryMb,
    figures: [...submitter, ...workers],
    lambda: { environments, coldEnvironments: environments, chunkMs: busyMs, billedMs },
    lambdaBasis: 'modelled',
    measured: ['Task time per item, a chunk’s overhead and round trip, item and result sizes: the sample run.'],
    modelled: [
      `The job as ${messages} chunk message(s) in ${p.invocations} invocation(s), ${p.waves} round(s) of chunks one after another on ${p.workers} worker(s) of ${p.threads} thread(s); the workers' requests as modelled for a job that ran (one delivery per chunk).`,
      'The submitter’s result polls: the pool’s back-off (10 ms doubling to 500 ms while nothing comes) over the predicted waves.',
    ],
    prices: p.model.prices,
  }).toJSON();
}

/** The submitter's requests for the predicted job: sends, argument and result objects, result polls, the dead-letter watch. */
function submitterFigures(
  p: Prediction,
  messages: number,
  messageBytes: number,
  argumentObjects: number,
  resultObjects: number,
  recordBytes: number,
): RequestFigure[] {
  const figure = (
    service: RequestFigure['service'],
    kind: string,
    requests: Bounded,
    units: Bounded,
    unitName: RequestFigure['unitName'],
  ): RequestFigure => ({ service, kind, side: 'submitter', basis: 'modelled', requests, units, unitName });
  const same = (value: number): Bounded => ({ low: value, point: value, high: value });
  const sends = Math.ceil(messages / 10);
  const sendUnits = Math.max(sends, Math.ceil(messageBytes / 65536));
  const polls = simulatePolls(waveArrivals(p.latencyMs, p.chunkMs, p.waves));
  // A consistent Query reads a unit per 4 KB of the records it returns; one at least.
  const queryUnits = polls + Math.ceil(recordBytes / 4096);
  const figures = [
    figure('SQS', 'SendMessageBatch', same(sends), same(sendUnits), 'SQS requests'),
    // The job's own item, written when the job opens.
    figure('DynamoDB', 'PutItem', same(1), same(1), 'write units'),
    figure(
      'DynamoDB',
      'Query',
      { low: p.waves, point: polls, high: polls * 4 },
      { low: p.waves, point: queryUnits, high: queryUnits * 4 },
      'read units',
    ),
    figure(
      'SQS',
      'ReceiveMessage',
      same(Math.ceil(p.predictedWallMs / DEAD_LETTER_POLL_MS)),
      same(Math.ceil(p.predictedWallMs / DEAD_LETTER_POLL_MS)),
      'SQS requests',
    ),
  ];
  if (argumentObjects > 0) figures.push(figure('S3', 'PutObject', same(argumentObjects), same(argumentObjects), 'PUT requests'));
  if (resultObjects > 0) figures.push(figure('S3', 'GetObject', same(resultObjects), same(resultObjects), 'GET requests'));
  return figures;
}

/**
 * The pool's result polls until the last arrival (ms after sending): the first 15 ms after
 * sending, then 10 ms after a poll that found something, doubling (to 500 ms) after each that
 * found nothing, as `AwsPoolEngine` polls.
 *
 * @example
 * ```ts
 * simulatePolls([100]); // polls at 15, 35, 75, 155: 4
 * ```
 */
export function simulatePolls(arrivals: readonly number[]): number {
  return pollTimes(arrivals).polls;
}

/** The pool's polls until the last arrival: how many, and when the last one (that finds it) runs. */
function pollTimes(arrivals: readonly number[]): { polls: number; last: number } {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let polls = 0;
  let time = FIRST_POLL_MS;
  let delay = MIN_POLL_MS;
  let next = 0;
  while (next < sorted.length) {
    polls++;
    let found = false;
    while (next < sorted.length && sorted[next]! <= time) {
      next++;
      found = true;
    }
    delay = found ? MIN_POLL_MS : Math.min(delay * 2, MAX_POLL_MS);
    if (next < sorted.length) time += delay;
  }
  return { polls, last: polls > 0 ? time : 0 };
}

/** Results back `latency` after sending, then one round of chunks every `chunk` ms. */
function waveArrivals(latency: number, chunk: number, waves: number): number[] {
  return Array.from({ length: waves }, (_, wave) => latency + (wave + 1) * chunk);
}

/**
 * The value `x` (≥ 0) whose arrivals `finish` at `observed` ms: the middle of the values whose
 * finish comes nearest `observed` (the pool's polls round a time up to the next poll).
 */
function unquantize(observed: number, arrivals: (x: number) => number[], finish: (arrivals: number[]) => number): number {
  if (!(observed > 0)) return 0;
  const step = Math.max(0.5, observed / 2000);
  let best = Infinity;
  let sum = 0;
  let count = 0;
  for (let x = 0; x <= observed; x += step) {
    const miss = Math.abs(finish(arrivals(x)) - observed);
    if (miss < best - 1e-9) {
      best = miss;
      sum = x;
      count = 1;
    } else if (Math.abs(miss - best) <= 1e-9) {
      sum += x;
      count++;
    }
  }
  return count > 0 ? sum / count : observed;
}

/** Each chunk size's median overhead over the runs at that size. */
function medianOverheads(
  runs: ReadonlyArray<{ chunksize: number; overheadMs: number }>,
): Array<{ chunksize: number; overheadMs: number }> {
  const bySize = new Map<number, number[]>();
  for (const run of runs) bySize.set(run.chunksize, [...(bySize.get(run.chunksize) ?? []), run.overheadMs]);
  return [...bySize].map(([chunksize, values]) => ({ chunksize, overheadMs: median(values) }));
}

/**
 * A chunk's overhead as `perChunkMs + chunksize × itemOverheadMs`, fitted (least squares) to the
 * sample's runs, neither part below 0; all of it per chunk when the runs had one chunk size or
 * the fitted growth is not clear of their noise.
 *
 * @example
 * ```ts
 * splitOverhead([{ chunksize: 100, overheadMs: 12 }, { chunksize: 200, overheadMs: 22 }, { chunksize: 400, overheadMs: 42 }]);
 * // { perChunkMs: 2, itemOverheadMs: 0.1 }
 * ```
 */
export function splitOverhead(runs: ReadonlyArray<{ chunksize: number; overheadMs: number }>): {
  perChunkMs: number;
  itemOverheadMs: number;
} {
  const last = runs[runs.length - 1]!;
  const n = runs.length;
  const meanX = runs.reduce((sum, r) => sum + r.chunksize, 0) / n;
  const meanY = runs.reduce((sum, r) => sum + r.overheadMs, 0) / n;
  const sxx = runs.reduce((sum, r) => sum + (r.chunksize - meanX) ** 2, 0);
  if (n < 2 || sxx === 0) return { perChunkMs: last.overheadMs, itemOverheadMs: 0 };
  const slope = runs.reduce((sum, r) => sum + (r.chunksize - meanX) * (r.overheadMs - meanY), 0) / sxx;
  const intercept = meanY - slope * meanX;
  // A slope within two standard errors of 0 is the runs' noise (the pool's polls, the machine),
  // not a cost per item: a long task's few milliseconds of overhead would be multiplied by its items.
  const residuals = runs.reduce((sum, r) => sum + (r.overheadMs - intercept - slope * r.chunksize) ** 2, 0);
  const slopeError = n > 2 ? Math.sqrt(residuals / (n - 2) / sxx) : 0;
  if (slope <= 2 * slopeError) return { perChunkMs: meanY, itemOverheadMs: 0 };
  if (intercept >= 0) return { perChunkMs: intercept, itemOverheadMs: slope };
  // Through the origin instead: all of the overhead grows with the items.
  const sxy = runs.reduce((sum, r) => sum + r.chunksize * r.overheadMs, 0);
  const sx2 = runs.reduce((sum, r) => sum + r.chunksize ** 2, 0);
  return { perChunkMs: 0, itemOverheadMs: sxy / sx2 };
}

/** `count` items spread evenly over the input, first and last included. */
function evenly(items: readonly unknown[], count: number): unknown[] {
  if (count >= items.length) return [...items];
  const picked: unknown[] = [];
  for (let i = 0; i < count; i++) picked.push(items[Math.floor((i * items.length) / count)]);
  return picked;
}

/** Items of each message of the job: chunks of `chunksize`, split to fit 60 KB where items allow. */
function messageParts(n: number, chunksize: number, itemBytes: number): number[] {
  const perMessage = Math.max(1, Math.floor(TARGET_MESSAGE_BYTES / Math.max(1, itemBytes)));
  const parts: number[] = [];
  for (let start = 0; start < n; start += chunksize) {
    let left = Math.min(chunksize, n - start);
    while (left > 0) {
      const take = Math.min(left, perMessage);
      parts.push(take);
      left -= take;
    }
  }
  return parts;
}

function encodedItemBytes(sample: readonly unknown[], starmap: boolean): number {
  const encoder = new ChunkEncoder(starmap);
  sample.forEach((item, index) => encoder.add(item, `item ${index}`));
  return encoder.take().payload.length / Math.max(1, sample.length);
}

function encodedResultBytes(results: readonly unknown[]): number {
  const encoder = new ValueEncoder();
  results.forEach((result, index) => encoder.write(result, `result ${index}`));
  return encoder.finish().length / Math.max(1, results.length);
}

function wholeOption(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(option, value, 'a whole number ≥ 1');
  }
  return value;
}

function positiveOption(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(option, value, 'a positive number');
  }
  return value;
}

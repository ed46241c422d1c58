/**
 * The aws backend's bench, on the emulators started here (fauxqs, dynalite), all in this process
 * with an in-process worker fleet: AWS requests and dollars per item for tiny and 1 MB items,
 * and end-to-end chunks/s against the floor — a bare loop of the same minimal requests per chunk
 * (send, receive, delete, put, get) against the same emulators, measured in the same run.
 *
 *   npm run bench -- --only aws      (or: npx tsx bench/aws.ts [--quick])
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { pathToFileURL } from 'node:url';
import { Context } from 'fanout';
import { handler } from '../functions/worker/handler.js';
import { AwsBackend } from '../lib/backends/aws/AwsBackend.js';
import { AwsClients } from '../lib/backends/aws/AwsClients.js';
import type { AwsConfig } from '../lib/backends/aws/AwsConfig.js';
import { provisionResources, startEmulators } from '../lib/backends/aws/emulator.js';
import { RequestCounter, type RequestCounts } from '../lib/backends/aws/RequestCounter.js';
import { runWorkerFleet, type WorkerFleetSummary } from '../lib/backends/aws/WorkerFleet.js';
import { AWS_PRICES } from '../lib/report/awsPrices.js';
import { benchSquare, benchTextLength } from './awsTasks.js';
import { benchRow, renderText, toTextTables, type BenchOptions, type BenchRow, type BenchTable } from './report.js';

/** Sizes of the aws bench (defaults: the figures the issue asks for; `--quick`: small ones). */
export interface AwsBenchSizes {
  tinyItems: number;
  bigItems: number;
  bigItemBytes: number;
  /** Chunks of one item, for the end-to-end rate against the floor. */
  singleItemChunks: number;
  /** Worker threads of the fleet (a 1,769 MB Lambda has one vCPU). */
  threads: number;
  /** Lambda memory the dollar figures assume. */
  memoryMb: number;
}

const FULL_SIZES: AwsBenchSizes = {
  tinyItems: 100_000,
  bigItems: 20,
  bigItemBytes: 1024 * 1024,
  singleItemChunks: 1000,
  threads: 2,
  memoryMb: 1769,
};
const QUICK_SIZES: AwsBenchSizes = { ...FULL_SIZES, tinyItems: 5000, bigItems: 3, singleItemChunks: 100 };
/** Rounds of the floor and of the one-item-per-chunk rate (medians); the rest runs once (request counts barely vary). */
const MAX_RATE_ROUNDS = 3;

/** us-east-1 prices (DESIGN.md), as the cost report uses them. */
const PRICES = { ...AWS_PRICES, lambdaGbSecondArm: AWS_PRICES.lambdaGbSecond };
const S3_PUT_KINDS = ['S3.PutObject', 'S3.UploadPart', 'S3.CreateMultipartUpload', 'S3.CompleteMultipartUpload'];

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Runs the aws backend's bench (the `aws` section of `npm run bench`) and returns its tables.
 *
 * @example
 * ```ts
 * const tables = await runAwsBench({ quick: true, full: false, reps: 2, cases: [] });
 * ```
 */
export async function runAwsBench(options: BenchOptions, sizes: Partial<AwsBenchSizes> = {}): Promise<BenchTable[]> {
  const size: AwsBenchSizes = { ...(options.quick ? QUICK_SIZES : FULL_SIZES), ...sizes };
  const { threads, memoryMb } = size;
  const concurrency = threads * 2;
  const rounds = Math.max(1, Math.min(options.reps, MAX_RATE_ROUNDS));
  const emulators = await startEmulators();
  try {
    const config = await provisionResources(emulators.endpoints, { name: 'bench' });
    const floorRates: number[] = [];
    const chunkRates: number[] = [];
    let single: Measured | undefined;
    for (let round = 0; round < rounds; round++) {
      floorRates.push(await measureFloor(config, size.singleItemChunks, concurrency));
      single = await measureMap(config, { threads, concurrency }, async (pool) => {
        const items = Array.from({ length: size.singleItemChunks }, (_, i) => i);
        await pool.map(benchSquare, items, { chunksize: 1 });
        return items.length;
      });
      chunkRates.push(single.items / single.seconds);
    }
    const latencies: number[] = [];
    await measureMap(config, { threads, concurrency }, async (pool) => {
      await pool.apply(benchSquare, [0]);
      for (let i = 0; i < 40; i++) {
        const begin = performance.now();
        await pool.apply(benchSquare, [i]);
        latencies.push(performance.now() - begin);
      }
      return latencies.length;
    });
    latencies.sort((a, b) => a - b);
    const speed: BenchTable = {
      title: `aws (emulated): end to end vs the floor, ${size.singleItemChunks} chunks of one item`,
      rows: [
        benchRow({
          metric: 'map, 1 item per chunk',
          unit: 'chunks/s',
          ours: median(chunkRates),
          peer: median(floorRates),
          peerName: 'floor: send+receive+delete+put+get per chunk',
          target: { of: 'ratio', atLeast: 0.5 },
          note:
            `the floor is a bare loop of those five requests per chunk, one at a time on ${concurrency} lanes, against the same ` +
            `emulators in the same run; fanout batches sends, receives, deletes and reads (medians of ${rounds} rounds)`,
        }),
        ...requestRows('map, 1 item per chunk', single!),
        benchRow({
          metric: 'apply round trip p50',
          unit: 'ms',
          ours: latencies[latencies.length >> 1]!,
          note: `p90 ${latencies[Math.floor(latencies.length * 0.9)]!.toFixed(1)} ms over 40 calls one at a time: send, a worker's receive, run and put, the client's next poll`,
        }),
      ],
      notes: [`In one process: fauxqs, dynalite, the client and a worker fleet of ${threads} threads (${concurrency} pollers).`],
    };

    const tinyLabel = `map of ${size.tinyItems.toLocaleString('en')} tiny items`;
    const tiny = await measureMap(config, { threads, concurrency }, async (pool) => {
      const items = Array.from({ length: size.tinyItems }, (_, i) => i);
      await pool.map(benchSquare, items);
      return items.length;
    });
    const tinyTable: BenchTable = {
      title: `aws (emulated): ${tinyLabel}, default chunking`,
      rows: [
        benchRow({ metric: tinyLabel, unit: 'items/s', ours: tiny.items / tiny.seconds }),
        ...requestRows(tinyLabel, tiny),
        ...costRows(tinyLabel, tiny, memoryMb),
      ],
    };

    const text = 'fanout!'.repeat(Math.ceil(size.bigItemBytes / 7)).slice(0, size.bigItemBytes);
    const bigLabel = `map of ${size.bigItems} items of ${Math.round(size.bigItemBytes / 1024)} KB`;
    const big = await measureMap(config, { threads, concurrency }, async (pool) => {
      const items = Array.from({ length: size.bigItems }, (_, i) => `${i}${text}`.slice(0, size.bigItemBytes));
      await pool.map(benchTextLength, items);
      return items.length;
    });
    const bigTable: BenchTable = {
      title: `aws (emulated): ${bigLabel} (arguments through S3)`,
      rows: [
        benchRow({ metric: bigLabel, unit: 'items/s', ours: big.items / big.seconds }),
        ...requestRows(bigLabel, big),
        ...costRows(bigLabel, big, memoryMb),
      ],
    };
    return [speed, tinyTable, bigTable];
  } finally {
    await emulators.stop();
  }
}

interface Measured {
  items: number;
  chunks: number;
  seconds: number;
  client: RequestCounts;
  fleet: WorkerFleetSummary;
}

/** Runs `work` on a fresh pool with a fresh in-process fleet, counting both sides' requests. */
async function measureMap(
  config: AwsConfig,
  fleetOptions: { threads: number; concurrency: number },
  work: (pool: InstanceType<Context['Pool']>) => Promise<number>,
): Promise<Measured> {
  const fleetCounter = new RequestCounter();
  const clientCounter = new RequestCounter();
  const stop = new AbortController();
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = () => resolve()));
  const fleet = runWorkerFleet({
    config,
    handler,
    ...fleetOptions,
    // Short long polls, so that stopping the fleet between measurements is quick; the counts
    // are taken when the work is done, before the fleet's last idle polls.
    waitTimeSeconds: 2,
    counter: fleetCounter,
    signal: stop.signal,
    onReady: ready,
  });
  await Promise.race([started, fleet]);
  const context = new Context(new AwsBackend({ config, counter: clientCounter }));
  const pool = new context.Pool();
  const begin = performance.now();
  const items = await work(pool);
  const seconds = (performance.now() - begin) / 1000;
  pool.close();
  await pool.join();
  const chunks = pool.stats().chunksCompleted;
  const fleetRequests = fleetCounter.snapshot();
  stop.abort();
  const summary = await fleet;
  return { items, chunks, seconds, client: clientCounter.snapshot(), fleet: { ...summary, requests: fleetRequests } };
}

function requestRows(label: string, measured: Measured): BenchRow[] {
  const total = measured.client.total + measured.fleet.requests.total;
  const kinds = requestKinds(measured);
  const breakdown = Object.entries(kinds)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
  const messages = measured.fleet.messagesReceived;
  return [
    benchRow({
      metric: `${label}: AWS requests per 1,000 items`,
      unit: 'requests',
      ours: (total / measured.items) * 1000,
      note: `client and workers: ${breakdown}`,
    }),
    benchRow({
      metric: `${label}: AWS requests per chunk message`,
      unit: 'requests',
      ours: total / Math.max(1, messages),
      target: { of: 'ours', atMost: 5 },
      note: `${messages} chunk messages`,
    }),
  ];
}

function requestKinds(measured: Measured): Record<string, number> {
  const kinds = { ...measured.client.requests };
  for (const [kind, count] of Object.entries(measured.fleet.requests.requests)) kinds[kind] = (kinds[kind] ?? 0) + count;
  return kinds;
}

function costRows(label: string, measured: Measured, memoryMb: number): BenchRow[] {
  const kinds = requestKinds(measured);
  const sqs = (measured.client.sqsBilledRequests + measured.fleet.requests.sqsBilledRequests) * PRICES.sqsRequest;
  const dynamo =
    (measured.client.dynamoWriteUnits + measured.fleet.requests.dynamoWriteUnits) * PRICES.dynamoWriteUnit +
    (measured.client.dynamoReadUnits + measured.fleet.requests.dynamoReadUnits) * PRICES.dynamoReadUnit;
  const s3 =
    S3_PUT_KINDS.reduce((sum, kind) => sum + (kinds[kind] ?? 0), 0) * PRICES.s3Put + (kinds['S3.GetObject'] ?? 0) * PRICES.s3Get;
  const gb = memoryMb / 1024;
  // Lambda bills each invocation's duration; the tasks' own time is the floor of it.
  const taskSeconds = (measured.fleet.processor?.busyMs ?? 0) / 1000;
  const lambda = measured.fleet.invocations * PRICES.lambdaRequest + taskSeconds * gb * PRICES.lambdaGbSecondArm;
  const handlerSeconds = measured.fleet.handlerMs / 1000;
  const lambdaWall = measured.fleet.invocations * PRICES.lambdaRequest + handlerSeconds * gb * PRICES.lambdaGbSecondArm;
  const perMillion = (dollars: number) => (dollars / measured.items) * 1e6;
  return [
    benchRow({
      metric: `${label}: $ per million items`,
      unit: '$',
      ours: perMillion(sqs + dynamo + s3 + lambda),
      note:
        `SQS ${money(perMillion(sqs))} (64 KB units), DynamoDB ${money(perMillion(dynamo))} (capacity units), S3 ${money(perMillion(s3))}, ` +
        `Lambda ${money(perMillion(lambda))} (${measured.fleet.invocations} invocations, ${taskSeconds.toFixed(2)} s of task time at ${memoryMb} MB arm64)`,
    }),
    benchRow({
      metric: `${label}: $ per million items, Lambda billed by handler time`,
      unit: '$',
      ours: perMillion(sqs + dynamo + s3 + lambdaWall),
      note: `Lambda ${money(perMillion(lambdaWall))}: ${handlerSeconds.toFixed(2)} s of handler wall time here, emulator I/O included (an upper bound)`,
    }),
  ];
}

/** The same minimal request mix per chunk as the backend needs, with nothing else around it. */
async function measureFloor(config: AwsConfig, chunks: number, lanes: number): Promise<number> {
  const clients = new AwsClients(config);
  const body = Buffer.from(new Uint8Array(64).fill(7)).toString('base64');
  let next = 0;
  // A partition per round, as each pool run has its own.
  const run = `floor-${performance.now()}`;
  const begin = performance.now();
  const lane = async () => {
    while (next < chunks) {
      const id = next++;
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: body }));
      let receipt: string | undefined;
      while (!receipt) {
        const received = await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: config.queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
        );
        receipt = received.Messages?.[0]?.ReceiptHandle;
      }
      await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: config.queueUrl, ReceiptHandle: receipt }));
      const key = { pk: { S: run }, sk: { S: `c#${id}` } };
      await clients.dynamodb.send(
        new PutItemCommand({
          TableName: config.table,
          Item: { ...key, st: { S: 'ok' }, f: { B: new Uint8Array(16) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      await clients.dynamodb.send(new GetItemCommand({ TableName: config.table, Key: key, ConsistentRead: true }));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const rate = chunks / ((performance.now() - begin) / 1000);
  clients.destroy();
  return rate;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function money(value: number): string {
  return `$${value.toFixed(4)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const tables = await runAwsBench({ quick: process.argv.includes('--quick'), full: false, reps: 1, cases: [] });
  for (const table of toTextTables('aws', tables)) console.log(`${renderText(table)}\n`);
  process.exit(0);
}

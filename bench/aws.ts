/**
 * The aws backend's bench, on the emulators started here (fauxqs, dynalite), all in this process
 * with an in-process worker fleet: AWS requests and dollars per item for tiny and 1 MB items,
 * and end-to-end chunks/s against the floor — a bare loop of the same minimal requests per chunk
 * (send, receive, delete, put, get) against the same emulators, measured in the same run.
 *
 *   npx tsx bench/aws.ts            (the lead's `npm run bench` imports runAwsBench)
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
import { benchSquare, benchTextLength } from './awsTasks.js';

/** One printable line of the bench. */
export interface AwsBenchRow {
  benchmark: string;
  metric: string;
  value: number;
  unit: string;
  note?: string;
}

/** Options of {@link runAwsBench}; the defaults are the figures the issue asks for. */
export interface AwsBenchOptions {
  tinyItems?: number;
  bigItems?: number;
  bigItemBytes?: number;
  /** Chunks of one item, for the end-to-end rate against the floor. */
  singleItemChunks?: number;
  /** Worker threads of the fleet (a 1,769 MB Lambda has one vCPU). */
  threads?: number;
  /** Lambda memory the dollar figures assume. */
  memoryMb?: number;
}

/** us-east-1 prices (DESIGN.md). */
const PRICES = {
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  sqsRequest: 0.4 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
};
const S3_PUT_KINDS = ['S3.PutObject', 'S3.UploadPart', 'S3.CreateMultipartUpload', 'S3.CompleteMultipartUpload'];

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Runs the aws backend's bench and returns its rows.
 *
 * @example
 * ```ts
 * for (const row of await runAwsBench()) console.log(row.benchmark, row.metric, row.value, row.unit);
 * ```
 */
export async function runAwsBench(options: AwsBenchOptions = {}): Promise<AwsBenchRow[]> {
  const tinyItems = options.tinyItems ?? 100_000;
  const bigItems = options.bigItems ?? 20;
  const bigItemBytes = options.bigItemBytes ?? 1024 * 1024;
  const singleItemChunks = options.singleItemChunks ?? 1000;
  const threads = options.threads ?? 2;
  const memoryMb = options.memoryMb ?? 1769;
  const concurrency = threads * 2;
  const emulators = await startEmulators();
  const rows: AwsBenchRow[] = [];
  try {
    const config = await provisionResources(emulators.endpoints, { name: 'bench' });

    // The floor first, while the emulators are fresh for both.
    const floorRate = await measureFloor(config, singleItemChunks, concurrency);
    rows.push({
      benchmark: 'floor: send+receive+delete+put+get per chunk',
      metric: 'chunks/s',
      value: round(floorRate),
      unit: 'chunks/s',
      note: `${concurrency} lanes, one request at a time each`,
    });

    const single = await measureMap(config, { threads, concurrency }, async (pool) => {
      const items = Array.from({ length: singleItemChunks }, (_, i) => i);
      await pool.map(benchSquare, items, { chunksize: 1 });
      return items.length;
    });
    const e2eRate = single.items / single.seconds;
    rows.push(
      { benchmark: 'map, 1 item per chunk, end to end', metric: 'chunks/s', value: round(e2eRate), unit: 'chunks/s' },
      {
        benchmark: 'map, 1 item per chunk, end to end',
        metric: 'vs floor',
        value: round(e2eRate / floorRate, 2),
        unit: '×',
        note: 'target ≥ 0.5',
      },
      ...requestRows('map, 1 item per chunk', single, single.items),
    );

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
    rows.push({
      benchmark: 'apply, one call at a time',
      metric: 'round trip p50',
      value: round(latencies[latencies.length >> 1]!, 1),
      unit: 'ms',
      note: `p90 ${round(latencies[Math.floor(latencies.length * 0.9)]!, 1)} ms: send, a worker's receive, run and put, the client's next poll`,
    });

    const tiny = await measureMap(config, { threads, concurrency }, async (pool) => {
      const items = Array.from({ length: tinyItems }, (_, i) => i);
      await pool.map(benchSquare, items);
      return items.length;
    });
    rows.push(
      {
        benchmark: `map of ${tinyItems.toLocaleString('en')} tiny items`,
        metric: 'items/s',
        value: round(tiny.items / tiny.seconds),
        unit: 'items/s',
      },
      ...requestRows(`map of ${tinyItems.toLocaleString('en')} tiny items`, tiny, tiny.items),
      ...costRows(`map of ${tinyItems.toLocaleString('en')} tiny items`, tiny, memoryMb),
    );

    const text = 'fanout!'.repeat(Math.ceil(bigItemBytes / 7)).slice(0, bigItemBytes);
    const big = await measureMap(config, { threads, concurrency }, async (pool) => {
      const items = Array.from({ length: bigItems }, (_, i) => `${i}${text}`.slice(0, bigItemBytes));
      await pool.map(benchTextLength, items);
      return items.length;
    });
    const label = `map of ${bigItems} items of ${Math.round(bigItemBytes / 1024)} KB`;
    rows.push(
      { benchmark: label, metric: 'items/s', value: round(big.items / big.seconds, 1), unit: 'items/s' },
      ...requestRows(label, big, big.items),
      ...costRows(label, big, memoryMb),
    );
  } finally {
    await emulators.stop();
  }
  return rows;
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
  const started = new Promise<void>((resolve) => (ready = resolve));
  const fleet = runWorkerFleet({
    config,
    handler,
    ...fleetOptions,
    waitTimeSeconds: 20,
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
  stop.abort();
  const summary = await fleet;
  return { items, chunks, seconds, client: clientCounter.snapshot(), fleet: summary };
}

function requestRows(label: string, measured: Measured, items: number): AwsBenchRow[] {
  const total = measured.client.total + measured.fleet.requests.total;
  const kinds = { ...measured.client.requests };
  for (const [kind, count] of Object.entries(measured.fleet.requests.requests)) kinds[kind] = (kinds[kind] ?? 0) + count;
  const breakdown = Object.entries(kinds)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
  const messages = measured.fleet.messagesReceived;
  return [
    {
      benchmark: label,
      metric: 'AWS requests per 1,000 items',
      value: round((total / items) * 1000, 1),
      unit: 'requests',
      note: breakdown,
    },
    {
      benchmark: label,
      metric: 'AWS requests per chunk message',
      value: round(total / Math.max(1, messages), 2),
      unit: 'requests',
      note: `${messages} messages (client + workers; target ≤ 5)`,
    },
  ];
}

function costRows(label: string, measured: Measured, memoryMb: number): AwsBenchRow[] {
  const kinds = { ...measured.client.requests };
  for (const [kind, count] of Object.entries(measured.fleet.requests.requests)) kinds[kind] = (kinds[kind] ?? 0) + count;
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
    {
      benchmark: label,
      metric: '$ per million items',
      value: round(perMillion(sqs + dynamo + s3 + lambda), 4),
      unit: '$',
      note:
        `SQS ${money(perMillion(sqs))}, DynamoDB ${money(perMillion(dynamo))}, S3 ${money(perMillion(s3))}, ` +
        `Lambda ${money(perMillion(lambda))} (${measured.fleet.invocations} invocations, ${round(taskSeconds, 2)} s of task time at ${memoryMb} MB arm64)`,
    },
    {
      benchmark: label,
      metric: '$ per million items, Lambda billed by handler time',
      value: round(perMillion(sqs + dynamo + s3 + lambdaWall), 4),
      unit: '$',
      note: `Lambda ${money(perMillion(lambdaWall))}: ${round(handlerSeconds, 2)} s of handler wall time here (emulator I/O included)`,
    },
  ];
}

/** The same minimal request mix per chunk as the backend needs, with nothing else around it. */
async function measureFloor(config: AwsConfig, chunks: number, lanes: number): Promise<number> {
  const clients = new AwsClients(config);
  const body = Buffer.from(new Uint8Array(64).fill(7)).toString('base64');
  let next = 0;
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
      const key = { pk: { S: 'floor' }, sk: { S: `c#${id}` } };
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

function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function money(value: number): string {
  return `$${value.toFixed(4)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runAwsBench();
  for (const row of rows) {
    console.log(
      `${row.benchmark.padEnd(44)} ${row.metric.padEnd(52)} ${String(row.value).padStart(10)} ${row.unit}${row.note ? `  (${row.note})` : ''}`,
    );
  }
}

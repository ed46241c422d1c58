/**
 * The aws backend's shared primitives on the emulators (dynalite): per operation, the AWS requests,
 * the DynamoDB capacity units and dollars, and p50/p99 latency against the bare-request floor (one
 * `UpdateItem` and one `PutItem` round trip), all measured in the same run, interleaved: every
 * round runs each contestant once, in turn, so all of them see the same load of a busy machine.
 *
 *   npm run bench -- --only awsSync      (or: npx tsx bench/awsSync.ts [--quick])
 *
 * Each contestant has a backend (a session, its clients and its `RequestCounter`) of its own, so
 * that its counter sees its requests only, the batched deletes of claimed queue items included
 * (they leave on a timer, after the operation that claimed them).
 */
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Barrier } from '../lib/api/Barrier.js';
import { Connection } from '../lib/api/Connection.js';
import { Event } from '../lib/api/Event.js';
import { Lock } from '../lib/api/Lock.js';
import { Queue } from '../lib/api/Queue.js';
import { Semaphore } from '../lib/api/Semaphore.js';
import { Value } from '../lib/api/Value.js';
import { AwsBackend } from '../lib/backends/aws/AwsBackend.js';
import { AwsBarrier } from '../lib/backends/aws/AwsBarrier.js';
import { AwsChannelEngine } from '../lib/backends/aws/AwsChannelEngine.js';
import type { AwsConfig } from '../lib/backends/aws/AwsConfig.js';
import { AwsEvent } from '../lib/backends/aws/AwsEvent.js';
import { AwsLock } from '../lib/backends/aws/AwsLock.js';
import type { AwsSession } from '../lib/backends/aws/AwsSession.js';
import { AwsQueueEngine } from '../lib/backends/aws/AwsQueueEngine.js';
import { AwsSemaphore } from '../lib/backends/aws/AwsSemaphore.js';
import { AwsSharedMemory } from '../lib/backends/aws/AwsSharedMemory.js';
import { provisionResources, startEmulators } from '../lib/backends/aws/emulator.js';
import type { RequestCounter, RequestCounts } from '../lib/backends/aws/RequestCounter.js';
import { benchRow, renderText, toTextTables, type BenchOptions, type BenchRow, type BenchTable } from './report.js';
import { percentile } from './stats.js';

/** Sizes of the awsSync section (defaults for a report; `--quick`: a smoke run). */
export interface AwsSyncBenchSizes {
  /** Interleaved rounds: each contestant runs once a round (after one warm-up round). */
  rounds: number;
  /** Items put, then got, by the backlog contestant in each round (25 fills one batched delete). */
  backlog: number;
}

const FULL_SIZES: AwsSyncBenchSizes = { rounds: 300, backlog: 25 };
const QUICK_SIZES: AwsSyncBenchSizes = { rounds: 20, backlog: 5 };

/** us-east-1 on-demand prices (DESIGN.md): per write request unit and per read request unit. */
const PRICES = { dynamoWriteUnit: 0.625 / 1e6, dynamoReadUnit: 0.125 / 1e6 };
/** Pending deletes of claimed queue items leave at the latest 2 s after the claim (QueueStore's FLUSH_MS). */
const DELETE_TIMER_MS = 2_000;

const FLOOR = 'bare UpdateItem (floor)';
const PUT_FLOOR = 'bare PutItem';
const ADD_FLOOR = "bare UpdateItem, Value.add's expression";
const LOCKED_ADD_FLOOR = "bare UpdateItem, the default lock's add expression";
const LOCK = 'Lock acquire+release';
const LOCK_ACQUIRE = 'Lock acquire (alone)';
const VALUE_ADD = 'Value.add (lock: false)';
const VALUE_ADD_LOCKED = 'Value.add (default RLock)';
const VALUE_ADD_GIVEN_LOCK = 'Value.add (a Lock given in its options)';
const SEMAPHORE = 'Semaphore acquire+release';
const EVENT = 'Event set+isSet';
const QUEUE = 'Queue put+get, one at a time';
const QUEUE_BACKLOG = 'Queue put+get, from a backlog';
const PIPE = 'Pipe send+recv';
const BARRIER = 'Barrier(2) round, both parties';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Records timed samples under a label, and (for `time`) the requests made meanwhile. */
interface Recorder {
  /** Times `work` as one sample of `label`, counting the contestant's requests during it. */
  time(label: string, work: () => Promise<unknown>): Promise<number>;
  /** Records a sample of `label` timed by the caller (its requests count in the contestant's total only). */
  sample(label: string, ms: number): void;
}

/** One contestant: a primitive on backends of its own, measured once a round. */
interface Contestant {
  /** The main label: its requests per operation are all the contestant's requests over its samples. */
  label: string;
  backends: AwsBackend[];
  run(recorder: Recorder): Promise<void>;
  /** Sends what is still pending (batched deletes), so that the counts include it. */
  settle?(): Promise<void>;
}

/** One row of the summary table. */
export interface AwsSyncRow {
  operation: string;
  'requests/op': number;
  'write units/op': number;
  'read units/op': number;
  '$/M ops': number;
  'p50 ms': number;
  'p99 ms': number;
  'p50 / floor p50': number;
}

/**
 * Runs the awsSync section of `npm run bench` on emulators of its own and returns its tables: a
 * summary (one row per operation) and the targets.
 *
 * @example
 * ```ts
 * const [summary, targets] = await runAwsSyncBench({ quick: true, full: false, reps: 2, cases: [] });
 * ```
 */
export async function runAwsSyncBench(options: BenchOptions, sizes: Partial<AwsSyncBenchSizes> = {}): Promise<BenchTable[]> {
  const size: AwsSyncBenchSizes = { ...(options.quick ? QUICK_SIZES : FULL_SIZES), ...sizes };
  const emulators = await startEmulators();
  const backends: AwsBackend[] = [];
  try {
    const config = await provisionResources(emulators.endpoints, { name: 'awssync' });
    const backend = () => {
      const made = new AwsBackend({ config });
      backends.push(made);
      return made;
    };
    const contestants = await makeContestants(config, backend, size.backlog);
    return await measure(contestants, size);
  } finally {
    for (const made of backends) await made.close();
    await emulators.stop();
  }
}

/**
 * The contestants, through the public classes, each primitive made in one line (from an aws
 * engine, or with the public constructor on its own backend).
 */
async function makeContestants(config: AwsConfig, backend: () => AwsBackend, backlog: number): Promise<Contestant[]> {
  const floorBackend = backend();
  const floorSession = await floorBackend.session();
  let floorItem = 0;
  const floor: Contestant = {
    label: FLOOR,
    backends: [floorBackend],
    run: async (r) => {
      await r.time(FLOOR, () =>
        floorSession.clients.dynamodb.send(
          new UpdateItemCommand({
            TableName: config.table,
            Key: { pk: { S: 'bench#floor' }, sk: { S: 'counter' } },
            UpdateExpression: 'ADD n :one SET expiresAt = :e',
            ExpressionAttributeValues: { ':one': { N: '1' }, ':e': { N: String(floorSession.expiresAt()) } },
          }),
        ),
      );
    },
  };
  const putBackend = backend();
  const putSession = await putBackend.session();
  const putFloor: Contestant = {
    label: PUT_FLOOR,
    backends: [putBackend],
    run: async (r) => {
      await r.time(PUT_FLOOR, () =>
        putSession.clients.dynamodb.send(
          new PutItemCommand({
            TableName: config.table,
            Item: {
              pk: { S: 'bench#floor' },
              sk: { S: `item#${++floorItem}` },
              b: { B: new Uint8Array(16) },
              expiresAt: { N: String(putSession.expiresAt()) },
            },
          }),
        ),
      );
    },
  };

  // The requests Value.add sends, without the engine: what dynalite's expression handling adds
  // (the default lock's add also checks the lock is free, in the same request).
  const addFloor = addFloorContestant(ADD_FLOOR, 'attribute_not_exists(#v) OR (attribute_exists(#v) AND #v <= :hi)');
  const lockedAddFloor = addFloorContestant(
    LOCKED_ADD_FLOOR,
    'attribute_not_exists(h) AND (attribute_not_exists(#v) OR (attribute_exists(#v) AND #v <= :hi))',
  );
  function addFloorContestant(label: string, condition: string): Contestant {
    const addBackend = backend();
    let addSession: AwsSession | undefined;
    return {
      label,
      backends: [addBackend],
      run: async (r) => {
        addSession ??= await addBackend.session();
        const session = addSession;
        await r.time(label, () =>
          session.clients.dynamodb.send(
            new UpdateItemCommand({
              TableName: config.table,
              Key: { pk: { S: 'bench#floor' }, sk: { S: label } },
              UpdateExpression: 'SET #v = if_not_exists(#v, :init) + :d, #e = :e',
              ConditionExpression: condition,
              ExpressionAttributeNames: { '#v': 'v', '#e': 'expiresAt' },
              ExpressionAttributeValues: {
                ':init': { N: '0' },
                ':d': { N: '1' },
                ':hi': { N: '2147483646' },
                ':e': { N: String(session.expiresAt()) },
              },
              ReturnValues: 'UPDATED_NEW',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
      },
    };
  }

  const lockBackend = backend();
  const lock = Lock.fromEngine(await AwsLock.create(lockBackend, { recursive: false }));
  const lockContestant: Contestant = {
    label: LOCK,
    backends: [lockBackend],
    run: async (r) => {
      await r.time(LOCK, async () => {
        await r.time(LOCK_ACQUIRE, () => lock.acquire());
        await lock.release();
      });
    },
  };

  const valueBackend = backend();
  const value = Value.fromEngine(AwsSharedMemory.create(valueBackend, config, 'i', [0]), undefined);
  const lockedBackend = backend();
  // The public constructor: the default RLock is the Value's own, its lease on the Value's item.
  const lockedValue = new Value('i', 0, undefined, lockedBackend);
  const givenLockBackend = backend();
  const givenLockValue = new Value('i', 0, { lock: new Lock(givenLockBackend) }, givenLockBackend);

  const semaphoreBackend = backend();
  const semaphore = Semaphore.fromEngine(AwsSemaphore.create(semaphoreBackend, config, 1, undefined));

  const eventBackend = backend();
  const event = Event.fromEngine(AwsEvent.create(eventBackend, config));

  const queueBackend = backend();
  const queueEngine = AwsQueueEngine.create(queueBackend, { maxsize: 0, joinable: false });
  const queue = Queue.fromEngine<number>(queueEngine);
  const backlogBackend = backend();
  const backlogEngine = AwsQueueEngine.create(backlogBackend, { maxsize: 0, joinable: false });
  const backlogQueue = Queue.fromEngine<number>(backlogEngine);

  const pipeBackend = backend();
  const channel = AwsChannelEngine.create(pipeBackend);
  const [reader, writer] = [new Connection<number>(channel, undefined, true), new Connection<number>(undefined, channel, true)];

  // Two parties on two backends, as on two machines: the round costs both sides' requests.
  const barrierHere = backend();
  const barrierThere = backend();
  const barrierEngine = AwsBarrier.create(barrierHere, 2, config);
  const noAction = { action: null, timeout: null };
  const barrier = Barrier.fromEngine(barrierEngine, noAction);
  const barrierOther = Barrier.fromEngine(AwsBarrier.fromHandle(barrierEngine.handle().state, barrierThere), noAction);

  let item = 0;
  return [
    floor,
    putFloor,
    addFloor,
    lockedAddFloor,
    lockContestant,
    { label: VALUE_ADD, backends: [valueBackend], run: (r) => r.time(VALUE_ADD, () => value.add(1)).then(() => {}) },
    {
      label: VALUE_ADD_LOCKED,
      backends: [lockedBackend],
      run: (r) => r.time(VALUE_ADD_LOCKED, () => lockedValue.add(1)).then(() => {}),
    },
    {
      label: VALUE_ADD_GIVEN_LOCK,
      backends: [givenLockBackend],
      run: (r) => r.time(VALUE_ADD_GIVEN_LOCK, () => givenLockValue.add(1)).then(() => {}),
    },
    {
      label: SEMAPHORE,
      backends: [semaphoreBackend],
      run: (r) =>
        r
          .time(SEMAPHORE, async () => {
            await semaphore.acquire();
            await semaphore.release();
          })
          .then(() => {}),
    },
    {
      label: EVENT,
      backends: [eventBackend],
      run: (r) =>
        r
          .time(EVENT, async () => {
            await event.set();
            await event.isSet();
          })
          .then(() => {}),
    },
    {
      label: QUEUE,
      backends: [queueBackend],
      run: (r) =>
        r
          .time(QUEUE, async () => {
            await queue.put(++item);
            await queue.get();
          })
          .then(() => {}),
      settle: () => queueEngine.flush(),
    },
    {
      label: QUEUE_BACKLOG,
      backends: [backlogBackend],
      // `backlog` puts, then as many gets: a sample is one item's put plus its get.
      run: async (r) => {
        const puts: number[] = [];
        for (let i = 0; i < backlog; i++) {
          const begin = performance.now();
          await backlogQueue.put(i);
          puts.push(performance.now() - begin);
        }
        for (let i = 0; i < backlog; i++) {
          const begin = performance.now();
          await backlogQueue.get();
          r.sample(QUEUE_BACKLOG, puts[i]! + performance.now() - begin);
        }
      },
      settle: () => backlogEngine.flush(),
    },
    {
      label: PIPE,
      backends: [pipeBackend],
      run: (r) =>
        r
          .time(PIPE, async () => {
            await writer.send(++item);
            await reader.recv();
          })
          .then(() => {}),
    },
    {
      label: BARRIER,
      backends: [barrierHere, barrierThere],
      run: (r) => r.time(BARRIER, () => Promise.all([barrier.wait(), barrierOther.wait()])).then(() => {}),
    },
  ];
}

interface Tally {
  samples: number[];
  /** Requests counted inside the samples' windows (for labels timed with `time`). */
  windowed: number;
}

async function measure(contestants: Contestant[], size: AwsSyncBenchSizes): Promise<BenchTable[]> {
  // The counters at hand, so that counting inside a timed window adds no await to it.
  const counters = new Map<Contestant, RequestCounter[]>();
  for (const contestant of contestants) {
    counters.set(contestant, await Promise.all(contestant.backends.map(async (b) => (await b.session()).counter)));
  }
  const counts = (contestant: Contestant) => counters.get(contestant)!.map((counter) => counter.snapshot());
  const totalOf = (contestant: Contestant) => counts(contestant).reduce((sum, c) => sum + c.total, 0);
  const tallies = new Map<string, Tally>();
  let counting = false;
  const recorderFor = (contestant: Contestant): Recorder => ({
    async time(label, work) {
      const before = totalOf(contestant);
      const begin = performance.now();
      await work();
      const ms = performance.now() - begin;
      const requests = totalOf(contestant) - before;
      if (counting) {
        const tally = tallyOf(tallies, label);
        tally.samples.push(ms);
        tally.windowed += requests;
      }
      return ms;
    },
    sample(label, ms) {
      if (counting) tallyOf(tallies, label).samples.push(ms);
    },
  });

  // A warm-up round (connections, first writes of each item), then the counts start from zero.
  for (const contestant of contestants) await contestant.run(recorderFor(contestant));
  await settleAll(contestants);
  const baselines = contestants.map(counts);
  counting = true;
  for (let round = 0; round < size.rounds; round++) {
    for (const contestant of contestants) await contestant.run(recorderFor(contestant));
  }
  await settleAll(contestants);
  const finals = contestants.map(counts);

  const rows: AwsSyncRow[] = [];
  /** The requests by kind per operation, for the notes. */
  const kinds: string[] = [];
  const spentBy = new Map<string, Spent>();
  const floorP50 = percentile(tallies.get(FLOOR)!.samples, 50);
  contestants.forEach((contestant, index) => {
    const spent = difference(finals[index]!, baselines[index]!);
    const ops = tallies.get(contestant.label)!.samples.length;
    rows.push(summaryRow(contestant.label, spent, ops, floorP50, tallies.get(contestant.label)!.samples));
    kinds.push(`${contestant.label}: ${describeKinds(spent, ops)}`);
    spentBy.set(contestant.label, { spent, ops });
    if (contestant.label === LOCK) {
      // The acquire alone: its requests are the ones inside its windows (the release's are not).
      const acquire = tallies.get(LOCK_ACQUIRE)!;
      const perOp = acquire.windowed / acquire.samples.length;
      rows.push({
        ...summaryRow(LOCK_ACQUIRE, spent, ops, floorP50, acquire.samples),
        'requests/op': perOp,
        'write units/op': perOp,
        'read units/op': 0,
        '$/M ops': perOp * PRICES.dynamoWriteUnit * 1e6,
      });
    }
  });

  const summary: BenchTable = {
    title: `awsSync (emulated): shared primitives on the aws backend, ${size.rounds} interleaved rounds`,
    // Plain objects: the harness prints them as a table with a column per key (see report.ts).
    rows: rows as unknown as BenchRow[],
    notes: [
      `requests/op: all the contestant's requests (its own backend's counter) after a warm-up round, over its operations; ` +
        `the batched deletes of claimed queue and pipe items included (sent after the last round)`,
      `$/M ops: DynamoDB on-demand, $0.625 per million write units and $0.125 per million read units (DESIGN.md); ` +
        `a request counts one unit (the items are < 1 KB); a BatchWriteItem counts one unit per item deleted. ` +
        `No SQS or S3 request is made (items are tiny)`,
      `p50 / floor p50: against one bare UpdateItem round trip (${formatMs(floorP50)} ms p50 in this run), the same emulator and load`,
      `the backlog row puts ${size.backlog} items and then gets them, each round; a sample is one item's put plus its get`,
      `the Barrier row is one round of two parties arriving together on two backends (two machines): both sides' requests`,
      `load average at the end ${loadavg()[0]!.toFixed(2)} (other sessions share this machine)`,
      `requests per operation by kind — ${kinds.join('; ')}`,
    ],
  };
  return [summary, targetsTable(rows, spentBy, floorP50)];
}

/** What a contestant's requests were over its operations. */
interface Spent {
  spent: RequestCounts;
  ops: number;
}

function tallyOf(tallies: Map<string, Tally>, label: string): Tally {
  let tally = tallies.get(label);
  if (!tally) tallies.set(label, (tally = { samples: [], windowed: 0 }));
  return tally;
}

async function settleAll(contestants: Contestant[]): Promise<void> {
  for (const contestant of contestants) await contestant.settle?.();
  // The pipe's pending deletes have no flush: wait for their timer.
  await new Promise((resolve) => setTimeout(resolve, DELETE_TIMER_MS + 300));
}

/** What a contestant spent between two sets of snapshots (one per backend), summed. */
function difference(after: RequestCounts[], before: RequestCounts[]): RequestCounts {
  const sum: RequestCounts = { requests: {}, total: 0, sqsBilledRequests: 0, dynamoReadUnits: 0, dynamoWriteUnits: 0 };
  after.forEach((counts, index) => {
    const earlier = before[index]!;
    sum.total += counts.total - earlier.total;
    sum.sqsBilledRequests += counts.sqsBilledRequests - earlier.sqsBilledRequests;
    sum.dynamoReadUnits += counts.dynamoReadUnits - earlier.dynamoReadUnits;
    sum.dynamoWriteUnits += counts.dynamoWriteUnits - earlier.dynamoWriteUnits;
    for (const [kind, count] of Object.entries(counts.requests)) {
      const spent = count - (earlier.requests[kind] ?? 0);
      if (spent > 0) sum.requests[kind] = (sum.requests[kind] ?? 0) + spent;
    }
  });
  return sum;
}

function summaryRow(operation: string, spent: RequestCounts, ops: number, floorP50: number, samples: number[]): AwsSyncRow {
  // The counter counts a BatchWriteItem without a capacity report as one unit; a batched delete
  // costs one unit per item, and every item claimed is deleted once.
  const batches = spent.requests['DynamoDB.BatchWriteItem'] ?? 0;
  const writeUnits = spent.dynamoWriteUnits + (batches > 0 ? ops - batches : 0);
  const dollars = writeUnits * PRICES.dynamoWriteUnit + spent.dynamoReadUnits * PRICES.dynamoReadUnit;
  const p50 = percentile(samples, 50);
  return {
    operation,
    'requests/op': spent.total / ops,
    'write units/op': writeUnits / ops,
    'read units/op': spent.dynamoReadUnits / ops,
    '$/M ops': (dollars / ops) * 1e6,
    'p50 ms': p50,
    'p99 ms': percentile(samples, 99),
    'p50 / floor p50': p50 / floorP50,
  };
}

function describeKinds(spent: RequestCounts, ops: number): string {
  return Object.entries(spent.requests)
    .map(([kind, count]) => `${(count / ops).toFixed(2)} ${kind.replace(/^DynamoDB\./, '')}`)
    .join(', ');
}

/** The targets: requests per operation, and each p50 within 1.5× of the floor's. */
function targetsTable(rows: AwsSyncRow[], spentBy: Map<string, Spent>, floorP50: number): BenchTable {
  const row = (operation: string) => rows.find((r) => r.operation === operation)!;
  const perItem = (operation: string, kind: string) => {
    const { spent, ops } = spentBy.get(operation)!;
    return ((spent.requests[`DynamoDB.${kind}`] ?? 0) / ops).toFixed(2);
  };
  const deletes = (operation: string) => perItem(operation, 'BatchWriteItem');
  const requests = (operation: string, atMost: number, note?: string) =>
    benchRow({
      metric: `${operation}: requests/op`,
      unit: 'requests',
      ours: row(operation)['requests/op'],
      target: { of: 'ours', atMost },
      ...(note ? { note } : {}),
    });
  const latency = (operation: string, note: string) =>
    benchRow({
      metric: `${operation}: p50`,
      unit: 'ms',
      ours: row(operation)['p50 ms'],
      peer: floorP50,
      peerName: 'one bare UpdateItem',
      target: { of: 'ratio', atMost: 1.5 },
      note,
    });
  return {
    title: 'awsSync (emulated): the targets of issue 9',
    rows: [
      requests(LOCK, 2),
      requests(VALUE_ADD, 1),
      requests(VALUE_ADD_LOCKED, 1),
      requests(
        QUEUE,
        3,
        `a put (PutItem), a head Query and a claim (UpdateItem): 3, plus ${deletes(QUEUE)} batched deletes per item ` +
          '(a BatchWriteItem leaves at 25 claims or 2 s after the first, so its share grows as the operations slow down)',
      ),
      requests(
        QUEUE_BACKLOG,
        3,
        `a PutItem and a claim per item, ${perItem(QUEUE_BACKLOG, 'Query')} head Queries (one serves up to 32 gets) and ` +
          `${deletes(QUEUE_BACKLOG)} batched deletes per item`,
      ),
      latency(LOCK, 'two sequential conditional UpdateItems (acquire, then release): at best ~2× one round trip'),
      latency(
        VALUE_ADD,
        `one conditional UpdateItem; the same request sent bare (its if_not_exists and condition) takes ${formatMs(row(ADD_FLOOR)['p50 ms'])} ms p50`,
      ),
      latency(
        VALUE_ADD_LOCKED,
        "one UpdateItem conditioned on the Value's own lock being free (its lease lives on the Value's item); " +
          `the same request sent bare takes ${formatMs(row(LOCKED_ADD_FLOOR)['p50 ms'])} ms p50`,
      ),
      latency(QUEUE, 'three sequential requests (PutItem, Query, UpdateItem): at best ~3× one round trip'),
      latency(QUEUE_BACKLOG, 'a PutItem and a claiming UpdateItem, the Query shared: at best ~2× one round trip'),
    ],
    notes: [
      'A pair of sequential requests cannot be within 1.5× of one request: the latency target can hold for Value.add ' +
        '(one request, with or without its default lock) only; for the others the ratio to read is against their number of round trips',
    ],
  };
}

function formatMs(ms: number): string {
  return ms.toFixed(2);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const tables = await runAwsSyncBench({ quick: process.argv.includes('--quick'), full: false, reps: 1, cases: [] });
  for (const table of toTextTables('awsSync', tables)) console.log(`${renderText(table)}\n`);
  process.exit(0);
}

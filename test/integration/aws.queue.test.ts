import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { Deadline } from '../../lib/backend/Deadline.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { AwsQueueEngine, type AwsQueueState } from '../../lib/backends/aws/AwsQueueEngine.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import { bucketKeys, provisionForTest } from './awsHarness.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (value: unknown) => encoder.encode(JSON.stringify(value));
const parse = (item: Uint8Array | undefined) => (item === undefined ? undefined : (JSON.parse(decoder.decode(item)) as unknown));

/** A separate backend (its own session and counter): another machine, as far as the queue can tell. */
function machine(config: AwsConfig): { backend: AwsBackend; counter: RequestCounter } {
  const counter = new RequestCounter();
  return { backend: new AwsBackend({ config, counter }), counter };
}

/** The same queue as `engine`, re-bound on another machine from its handle. */
async function elsewhere(engine: AwsQueueEngine, backend: AwsBackend): Promise<AwsQueueEngine> {
  // The handle carries the config once the backend has resolved it (at once with a given config).
  await new Promise((resolve) => setImmediate(resolve));
  const { kind, state } = engine.handle();
  expect(kind).toBe('aws.queue');
  expect((state as unknown as AwsQueueState).config).not.toBeNull();
  return AwsQueueEngine.fromHandle(JSON.parse(JSON.stringify(state)) as AwsQueueState, backend);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

function stats(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: Number(percentile(sorted, 50).toFixed(2)), p99: Number(percentile(sorted, 99).toFixed(2)) };
}

/** Requests so far, and the batched deletes among them (their number depends on the rate: see QueueStore). */
function requestsOf(counter: RequestCounter): { total: number; deletes: number } {
  const snapshot = counter.snapshot();
  return { total: snapshot.total, deletes: snapshot.requests['DynamoDB.BatchWriteItem'] ?? 0 };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

describe('aws queue engine on the emulators', () => {
  it('delivers 4 producers × 500 items to 4 consumers on separate machines exactly once, in per-producer order', async () => {
    const config = await provisionForTest('queue-mpmc');
    const origin = machine(config);
    const queue = AwsQueueEngine.create(origin.backend, { maxsize: 0, joinable: false });
    const machines = Array.from({ length: 8 }, () => machine(config));
    const producers = await Promise.all(machines.slice(0, 4).map((m) => elsewhere(queue, m.backend)));
    const consumers = await Promise.all(machines.slice(4).map((m) => elsewhere(queue, m.backend)));
    const total = 4 * 500;
    let received = 0;
    const produced = producers.map(async (producer, p) => {
      for (let i = 0; i < 500; i++) expect(await producer.put(bytes([p, i]), Deadline.never)).toBe(true);
    });
    const consumed = consumers.map(async (consumer) => {
      const got: Array<[number, number]> = [];
      while (received < total) {
        const item = await consumer.get(Deadline.after(300));
        if (item === undefined) continue;
        received++;
        got.push(parse(item) as [number, number]);
      }
      return got;
    });
    await Promise.all(produced);
    const results = await Promise.all(consumed);
    const seen = new Set<string>();
    for (const got of results) {
      const last = [-1, -1, -1, -1];
      for (const [p, i] of got) {
        expect(i, `producer ${p}'s items in order at one consumer`).toBeGreaterThan(last[p]!);
        last[p] = i;
        expect(seen.has(`${p}:${i}`), `item ${p}:${i} delivered twice`).toBe(false);
        seen.add(`${p}:${i}`);
      }
    }
    expect(seen.size).toBe(total);
    expect(await consumers[0]!.get(Deadline.now())).toBeUndefined();
    // Every consumer took a share: they raced for the same head.
    for (const got of results) expect(got.length).toBeGreaterThan(0);
    const counts = [...machines, origin].map((m) => m.counter.snapshot());
    const requests = counts.reduce((sum, c) => sum + c.total, 0);
    const kinds: Record<string, number> = {};
    for (const c of counts) for (const [k, v] of Object.entries(c.requests)) kinds[k] = (kinds[k] ?? 0) + v;
    console.log(
      `4×4 racing: ${(requests / total).toFixed(2)} requests per put+get`,
      kinds,
      'per consumer',
      results.map((r) => r.length),
    );
  }, 600_000);

  it('reports Full when a bounded queue has no room by the deadline, and takes the item once there is room', async () => {
    const config = await provisionForTest('queue-full');
    const { backend } = machine(config);
    const queue = AwsQueueEngine.create(backend, { maxsize: 2, joinable: false });
    expect(await queue.put(bytes('a'), Deadline.now())).toBe(true);
    expect(await queue.put(bytes('b'), Deadline.now())).toBe(true);
    expect(await queue.put(bytes('c'), Deadline.now())).toBe(false);
    expect(await queue.put(bytes('c'), Deadline.after(150))).toBe(false);
    expect(await queue.size()).toBe(2);
    // A put waiting for room gets in once a get (on another machine) makes room.
    const other = await elsewhere(queue, machine(config).backend);
    const waiting = queue.put(bytes('c'), Deadline.after(10_000));
    expect(parse(await other.get(Deadline.never))).toBe('a');
    expect(await waiting).toBe(true);
    expect(parse(await other.get(Deadline.now()))).toBe('b');
    expect(parse(await other.get(Deadline.now()))).toBe('c');
    expect(await other.get(Deadline.now())).toBeUndefined();
  }, 60_000);

  it('answers Empty (undefined) at the deadline, and a blocked get takes an item put while it waits, with few requests', async () => {
    const config = await provisionForTest('queue-empty');
    const consumer = machine(config);
    const queue = AwsQueueEngine.create(consumer.backend, { maxsize: 0, joinable: false });
    expect(await queue.get(Deadline.now())).toBeUndefined();
    const before = consumer.counter.snapshot().total;
    expect(await queue.get(Deadline.after(2000))).toBeUndefined();
    const waitedRequests = consumer.counter.snapshot().total - before;
    // Back-off from 20 ms doubling to 1 s: a 2 s wait looks about 7 times, never in a busy loop.
    expect(waitedRequests).toBeLessThanOrEqual(10);
    const producer = await elsewhere(queue, machine(config).backend);
    const waiting = queue.get(Deadline.never);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await producer.put(bytes({ late: true }), Deadline.never);
    expect(parse(await waiting)).toEqual({ late: true });
    console.log(`an empty get waiting 2 s: ${waitedRequests} requests`);
  }, 60_000);

  it('counts items with size() (qsize)', async () => {
    const config = await provisionForTest('queue-size');
    const queue = AwsQueueEngine.create(machine(config).backend, { maxsize: 0, joinable: false });
    expect(await queue.size()).toBe(0);
    for (let i = 0; i < 30; i++) await queue.put(bytes(i), Deadline.never);
    expect(await queue.size()).toBe(30);
    for (let i = 0; i < 12; i++) expect(parse(await queue.get(Deadline.now()))).toBe(i);
    expect(await queue.size()).toBe(18);
    await queue.flush();
    expect(await queue.size()).toBe(18);
  }, 60_000);

  it('counts unfinished tasks: join waits for taskDone of every item, and one taskDone too many is refused', async () => {
    const config = await provisionForTest('queue-join');
    const queue = AwsQueueEngine.create(machine(config).backend, { maxsize: 0, joinable: true });
    const worker = await elsewhere(queue, machine(config).backend);
    expect(await queue.taskDone()).toBe(false);
    for (let i = 0; i < 3; i++) await queue.put(bytes(i), Deadline.never);
    let joined = false;
    const joining = queue.join().then(() => (joined = true));
    for (let i = 0; i < 3; i++) {
      expect(parse(await worker.get(Deadline.never))).toBe(i);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(joined).toBe(false);
      expect(await worker.taskDone()).toBe(true);
    }
    await joining;
    expect(joined).toBe(true);
    expect(await worker.taskDone()).toBe(false);
    expect(await queue.taskDone()).toBe(false);
    // A queue with nothing unfinished joins at once.
    await queue.join();
  }, 60_000);

  it('carries a big item (over 350 KB) through S3, under a key named after the queue', async () => {
    const config = await provisionForTest('queue-big');
    const queue = AwsQueueEngine.create(machine(config).backend, { maxsize: 0, joinable: false });
    const big = new Uint8Array(1_200_000).map((_, i) => i % 251);
    await queue.put(big, Deadline.never);
    await queue.put(bytes('small'), Deadline.never);
    const other = await elsewhere(queue, machine(config).backend);
    const got = await other.get(Deadline.now());
    // Buffer.equals: a deep toEqual over a million elements takes minutes.
    expect(got && Buffer.from(got).equals(big)).toBe(true);
    expect(parse(await other.get(Deadline.now()))).toBe('small');
    const keys = await bucketKeys(config);
    expect(keys.filter((key) => key.startsWith(`objects/queue/${queue.id}/`))).toHaveLength(1);
  }, 60_000);

  it('delivers each item once when the SDK retries a claim or a put that had already landed (mocked network failure after the request)', async () => {
    const config = await provisionForTest('queue-retry');
    const { backend } = machine(config);
    const session = await backend.session();
    // Each PutItem and UpdateItem is sent twice, as the SDK's retry does after a lost response.
    const dynamodb = session.clients.dynamodb;
    const send = dynamodb.send.bind(dynamodb) as (command: unknown) => Promise<unknown>;
    (dynamodb as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      if (command instanceof PutItemCommand || command instanceof UpdateItemCommand) await send(command).catch(() => {});
      return send(command);
    };
    const queue = AwsQueueEngine.create(backend, { maxsize: 5, joinable: true });
    for (let i = 0; i < 5; i++) expect(await queue.put(bytes(i), Deadline.now())).toBe(true);
    expect(await queue.put(bytes(5), Deadline.now())).toBe(false);
    for (let i = 0; i < 5; i++) expect(parse(await queue.get(Deadline.now()))).toBe(i);
    expect(await queue.get(Deadline.now())).toBeUndefined();
    expect(await queue.put(bytes(5), Deadline.now())).toBe(true);
    for (let i = 0; i < 6; i++) expect(await queue.taskDone()).toBe(true);
    expect(await queue.taskDone()).toBe(false);
  }, 60_000);

  it('measures requests and latency per put and get against bare PutItem/UpdateItem round trips and SQS', async () => {
    const config = await provisionForTest('queue-cost');
    const { backend, counter } = machine(config);
    const session = await backend.session();
    const queue = AwsQueueEngine.create(backend, { maxsize: 0, joinable: false });
    const bounded = AwsQueueEngine.create(backend, { maxsize: 1000, joinable: true });
    const rounds = 200;
    const bare: number[] = [];
    const update: number[] = [];
    const puts: number[] = [];
    const gets: number[] = [];
    const sqs: number[] = [];
    const boundedPutGet: number[] = [];
    // Warm up every path once.
    await queue.put(bytes('warm'), Deadline.never);
    await queue.get(Deadline.never);
    await bounded.put(bytes('warm'), Deadline.never);
    await bounded.get(Deadline.never);
    // Interleaved, so that each kind sees the same load of this (shared) machine.
    const queueRequests = { total: 0, deletes: 0 };
    const boundedRequests = { total: 0, deletes: 0 };
    const add = (sum: { total: number; deletes: number }, from: { total: number; deletes: number }) => {
      const now = requestsOf(counter);
      sum.total += now.total - from.total;
      sum.deletes += now.deletes - from.deletes;
    };
    for (let i = 0; i < rounds; i++) {
      bare.push(
        await timed(() =>
          session.clients.dynamodb.send(
            new PutItemCommand({
              TableName: config.table,
              Item: {
                pk: { S: 'bare' },
                sk: { S: String(i) },
                b: { B: bytes(i) },
                expiresAt: { N: String(session.expiresAt()) },
              },
            }),
          ),
        ),
      );
      update.push(
        await timed(() =>
          session.clients.dynamodb.send(
            new UpdateItemCommand({
              TableName: config.table,
              Key: { pk: { S: 'bare' }, sk: { S: 'counter' } },
              UpdateExpression: 'ADD n :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            }),
          ),
        ),
      );
      let before = requestsOf(counter);
      puts.push(await timed(() => queue.put(bytes(i), Deadline.never)));
      gets.push(await timed(() => queue.get(Deadline.never)));
      add(queueRequests, before);
      before = requestsOf(counter);
      boundedPutGet.push(
        await timed(async () => {
          await bounded.put(bytes(i), Deadline.never);
          await bounded.get(Deadline.never);
        }),
      );
      add(boundedRequests, before);
      // The SQS alternative: send, receive, delete per item.
      sqs.push(
        await timed(async () => {
          await session.clients.sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: String(i) }));
          const received = await session.clients.sqs.send(
            new ReceiveMessageCommand({ QueueUrl: config.queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }),
          );
          const message = received.Messages?.[0];
          if (message) {
            await session.clients.sqs.send(
              new DeleteMessageCommand({ QueueUrl: config.queueUrl, ReceiptHandle: message.ReceiptHandle }),
            );
          }
        }),
      );
    }
    // The batched deletes still pending are part of the cost.
    let before = requestsOf(counter);
    await queue.flush();
    add(queueRequests, before);
    before = requestsOf(counter);
    await bounded.flush();
    add(boundedRequests, before);
    // A backlog: 200 puts, then 200 gets (the head query serves many gets).
    before = requestsOf(counter);
    for (let i = 0; i < rounds; i++) await queue.put(bytes(i), Deadline.never);
    for (let i = 0; i < rounds; i++) expect(parse(await queue.get(Deadline.never))).toBe(i);
    await queue.flush();
    const backlogRequests = { total: 0, deletes: 0 };
    add(backlogRequests, before);
    const perItem = (sum: { total: number; deletes: number }) => ({
      all: sum.total / rounds,
      withoutDeletes: (sum.total - sum.deletes) / rounds,
      deletes: sum.deletes / rounds,
    });
    const report = {
      bareDynamoPutItem: stats(bare),
      bareDynamoUpdateItem: stats(update),
      queuePut: stats(puts),
      queueGet: stats(gets),
      queuePutPlusGet: stats(puts.map((p, i) => p + gets[i]!)),
      boundedJoinablePutPlusGet: stats(boundedPutGet),
      sqsSendReceiveDelete: stats(sqs),
      requestsPerPutGet: perItem(queueRequests),
      requestsPerBoundedJoinablePutGet: perItem(boundedRequests),
      requestsPerPutGetFromBacklog: perItem(backlogRequests),
    };
    console.log('aws queue cost (ms, requests)', JSON.stringify(report, null, 1));
    // put + head query + claim + a share of a batched delete; from a backlog the query is shared too.
    // put + head query + claim, and batched deletes: one per 25 claims at speed, one per 2 s when
    // slower (so their share depends on this machine's load); from a backlog the query is shared.
    expect(perItem(queueRequests).withoutDeletes).toBeLessThanOrEqual(3);
    expect(perItem(queueRequests).deletes).toBeLessThanOrEqual(0.5);
    expect(perItem(backlogRequests).withoutDeletes).toBeLessThanOrEqual(2.2);
    // Bounded and joinable: a counter update per put and per get on top.
    expect(perItem(boundedRequests).withoutDeletes).toBeLessThanOrEqual(5);
  }, 300_000);
});

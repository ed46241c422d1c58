/**
 * Latency of the aws backend's Value.add and Semaphore acquire+release on the emulators, against
 * the floor of one bare UpdateItem round trip, interleaved in the same run (so all three see the
 * same load). Run: `npx tsx bench/awsSharedLatency.ts [rounds]`. Prints p50/p99 in ms and
 * requests per operation.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { performance } from 'node:perf_hooks';
import { Deadline } from '../lib/backend/Deadline.js';
import { AwsBackend } from '../lib/backends/aws/AwsBackend.js';
import { AwsSemaphore } from '../lib/backends/aws/AwsSemaphore.js';
import { AwsSharedMemory } from '../lib/backends/aws/AwsSharedMemory.js';
import { provisionResources, startEmulators } from '../lib/backends/aws/emulator.js';
import { percentile } from './stats.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const rounds = Number(process.argv[2] ?? 300);
const emulators = await startEmulators();
try {
  const config = await provisionResources(emulators.endpoints, { name: 'latency' });
  const backend = new AwsBackend({ config });
  const session = await backend.session();
  const value = AwsSharedMemory.create(backend, config, 'i', [0]);
  const semaphore = AwsSemaphore.create(backend, config, 1, 1);
  const bare = () =>
    session.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: session.tableName,
        Key: { pk: { S: 'bench#floor' }, sk: { S: 'x' } },
        UpdateExpression: 'ADD #v :one',
        ExpressionAttributeNames: { '#v': 'v' },
        ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
  // The same request Value.add sends, without the engine: what dynalite's expression parsing costs.
  const sameExpression = () =>
    session.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: session.tableName,
        Key: { pk: { S: 'bench#same' }, sk: { S: 'x' } },
        UpdateExpression: 'SET #v = if_not_exists(#v, :init) + :d, #e = :e',
        ConditionExpression: 'attribute_not_exists(#v) OR (attribute_exists(#v) AND #v <= :hi)',
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
    );
  const contestants: Record<string, () => Promise<unknown>> = {
    'bare UpdateItem': bare,
    "bare UpdateItem, add's expression": sameExpression,
    'Value.add': () => value.add(0, 1),
    'Semaphore acquire+release': async () => {
      await semaphore.acquire(Deadline.never);
      await semaphore.release(1);
    },
  };
  const samples: Record<string, number[]> = {};
  const requests: Record<string, number> = {};
  for (const [name, run] of Object.entries(contestants)) {
    await run(); // warm-up
    samples[name] = [];
    requests[name] = 0;
  }
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of Object.entries(contestants)) {
      const before = backend.counter.snapshot().total;
      const start = performance.now();
      await run();
      samples[name]!.push(performance.now() - start);
      requests[name]! += backend.counter.snapshot().total - before;
    }
  }
  const floor = percentile(samples['bare UpdateItem']!, 50);
  console.log(`${rounds} interleaved rounds on the emulators (dynalite), one client:`);
  for (const [name, values] of Object.entries(samples)) {
    const p50 = percentile(values, 50);
    const p99 = percentile(values, 99);
    console.log(
      `${name.padEnd(36)} p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  ` +
        `${(p50 / floor).toFixed(2)}× floor  ${(requests[name]! / rounds).toFixed(2)} requests/op`,
    );
  }
  await backend.close();
} finally {
  await emulators.stop();
}

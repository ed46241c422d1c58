/**
 * Latency of an uncontended aws lock acquire+release on the emulators (dynalite) against the
 * bare-request floor: one conditional UpdateItem round trip, measured in the same run,
 * interleaved, on the same client. Prints p50/p99 in milliseconds and requests per operation.
 *
 *   npx tsx bench/awsLockLatency.ts [iterations]
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { performance } from 'node:perf_hooks';
import { Deadline } from '../lib/backend/Deadline.js';
import { AwsBackend } from '../lib/backends/aws/AwsBackend.js';
import { AwsLock } from '../lib/backends/aws/AwsLock.js';
import { provisionResources, startEmulators } from '../lib/backends/aws/emulator.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const iterations = Number(process.argv[2] ?? 500);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const emulators = await startEmulators();
try {
  const config = await provisionResources(emulators.endpoints, { name: 'locklatency' });
  const backend = new AwsBackend({ config });
  const session = await backend.session();
  const lock = await AwsLock.create(backend, { recursive: false });
  const bare = () =>
    session.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: config.table,
        Key: { pk: { S: 'bench#floor' }, sk: { S: 'x' } },
        UpdateExpression: 'SET v = :v ADD n :one',
        ConditionExpression: 'attribute_not_exists(v) OR v <> :v',
        ExpressionAttributeValues: { ':v': { S: String(Math.random()) }, ':one': { N: '1' } },
      }),
    );
  const floor: number[] = [];
  const locked: number[] = [];
  const acquires: number[] = [];
  const releases: number[] = [];
  for (let i = 0; i < 50; i++) {
    await bare();
    await lock.acquire(Deadline.never);
    await lock.release();
  }
  const before = backend.counter.snapshot().total;
  let lockRequests = 0;
  for (let i = 0; i < iterations; i++) {
    let start = performance.now();
    await bare();
    floor.push(performance.now() - start);
    const counted = backend.counter.snapshot().total;
    start = performance.now();
    await lock.acquire(Deadline.never);
    const acquired = performance.now();
    await lock.release();
    locked.push(performance.now() - start);
    acquires.push(acquired - start);
    releases.push(performance.now() - acquired);
    lockRequests += backend.counter.snapshot().total - counted;
  }
  const row = (name: string, samples: number[]) =>
    `${name.padEnd(34)} p50 ${percentile(samples, 50).toFixed(2)} ms   p99 ${percentile(samples, 99).toFixed(2)} ms`;
  console.log(`${iterations} iterations, interleaved (load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
  console.log(row('bare UpdateItem (floor)', floor));
  console.log(row('lock acquire + release', locked));
  console.log(row('  of which acquire', acquires));
  console.log(row('  of which release', releases));
  console.log(
    `requests per acquire+release: ${(lockRequests / iterations).toFixed(2)} (all: ${backend.counter.snapshot().total - before})`,
  );
  await backend.close();
} finally {
  await emulators.stop();
}

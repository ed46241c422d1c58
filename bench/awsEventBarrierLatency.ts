/**
 * Latency of the aws Event and Barrier engines on the emulators, against the floor of one bare
 * UpdateItem (and one consistent GetItem) round trip measured in the same run, interleaved.
 * Prints p50/p99 in ms and the requests per operation. Not a section of `npm run bench`: run it
 * alone, `npx tsx bench/awsEventBarrierLatency.ts [rounds]`.
 *
 * @example
 * ```sh
 * npx tsx bench/awsEventBarrierLatency.ts 200
 * ```
 */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { Deadline } from '../lib/backend/Deadline.js';
import { AwsBackend } from '../lib/backends/aws/AwsBackend.js';
import { AwsBarrier } from '../lib/backends/aws/AwsBarrier.js';
import { AwsEvent } from '../lib/backends/aws/AwsEvent.js';
import { provisionResources, startEmulators } from '../lib/backends/aws/emulator.js';
import { percentile, rounds, time } from './stats.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const reps = Number(process.argv[2] ?? 200);

const emulators = await startEmulators();
try {
  const config = await provisionResources(emulators.endpoints, { name: 'latency' });
  const here = new AwsBackend({ config });
  const there = new AwsBackend({ config });
  const session = await here.session();
  await there.session();
  const key = { pk: { S: 'obj#floor#x' }, sk: { S: 'state' } };
  const bareUpdate = () =>
    session.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: config.table,
        Key: key,
        UpdateExpression: 'ADD n :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
  const bareGet = () =>
    session.clients.dynamodb.send(new GetItemCommand({ TableName: config.table, Key: key, ConsistentRead: true }));
  const event = AwsEvent.create(here, config);
  const barrier = AwsBarrier.create(here, 2, config);
  const barrierThere = AwsBarrier.fromHandle(barrier.handle().state, there);

  const counted = async (run: () => Promise<unknown>): Promise<{ ms: number; requests: number }> => {
    const before = here.counter.snapshot().total + there.counter.snapshot().total;
    const ms = await time(run);
    return { ms, requests: here.counter.snapshot().total + there.counter.snapshot().total - before };
  };
  const samples = await rounds(reps, {
    'bare UpdateItem': () => counted(bareUpdate),
    'bare GetItem (consistent)': () => counted(bareGet),
    'Event.set + isSet': () =>
      counted(async () => {
        await event.set();
        await event.isSet();
      }),
    'Event.wait (already set)': () => counted(() => event.wait(Deadline.never)),
    'Barrier(2) round, both arrive together': () =>
      counted(() => Promise.all([barrier.wait(Deadline.never, undefined), barrierThere.wait(Deadline.never, undefined)])),
  });
  const floor = percentile(
    samples['bare UpdateItem'].map((s) => s.ms),
    50,
  );
  console.log(`${reps} rounds each, interleaved; emulators on loopback (dynalite)`);
  for (const [name, list] of Object.entries(samples)) {
    const ms = list.map((s) => s.ms);
    const requests = list.reduce((sum, s) => sum + s.requests, 0) / list.length;
    const p50 = percentile(ms, 50);
    console.log(
      `${name.padEnd(42)} p50 ${p50.toFixed(2).padStart(7)} ms  p99 ${percentile(ms, 99).toFixed(2).padStart(7)} ms  ` +
        `${(p50 / floor).toFixed(2)}× floor p50  ${requests.toFixed(2)} requests/op`,
    );
  }
  await here.close();
  await there.close();
} finally {
  await emulators.stop();
}

import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { Fanout } from '../../infra/Fanout.js';
import { Deadline } from '../../lib/backend/Deadline.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { AwsBarrier } from '../../lib/backends/aws/AwsBarrier.js';
import { AwsChannelEngine } from '../../lib/backends/aws/AwsChannelEngine.js';
import { AwsCondition } from '../../lib/backends/aws/AwsCondition.js';
import { AwsEvent } from '../../lib/backends/aws/AwsEvent.js';
import { AwsLock } from '../../lib/backends/aws/AwsLock.js';
import { AwsQueueEngine } from '../../lib/backends/aws/AwsQueueEngine.js';
import { AwsSemaphore } from '../../lib/backends/aws/AwsSemaphore.js';
import { AwsSharedMemory } from '../../lib/backends/aws/AwsSharedMemory.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import { bucketKeys, provisionForTest } from '../integration/awsHarness.js';
import { FIXTURE_HANDLER, FIXTURE_TASKS, SYNTH_TIMEOUT_MS, grantedActions, newApp } from './fixtures/synth.js';

/** The IAM action that authorizes an SDK command (`Service.Command`, as RequestCounter names it). */
function iamAction(request: string): string {
  const authorizedAs: Record<string, string> = {
    'SQS.SendMessageBatch': 'sqs:SendMessage',
    'SQS.DeleteMessageBatch': 'sqs:DeleteMessage',
    'SQS.ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
    'S3.CreateMultipartUpload': 's3:PutObject',
    'S3.UploadPart': 's3:PutObject',
    'S3.CompleteMultipartUpload': 's3:PutObject',
  };
  const [service, command] = request.split('.') as [string, string];
  return authorizedAs[request] ?? `${service.toLowerCase()}:${command}`;
}

/** An S3 key pattern of a grant (`*` matches anything, `/` included, as in IAM). */
function matches(pattern: string, key: string): boolean {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(key);
}

describe('the grants cover the requests of every aws primitive (emulators)', { timeout: SYNTH_TIMEOUT_MS }, () => {
  it('each primitive used once: the table actions sent are exactly those granted to both roles; the S3 keys and actions are granted', async () => {
    // The grants, from the synthesized template.
    const stack = new Stack(newApp({ bundle: false }), 'Grants');
    const fanout = new Fanout(stack, 'Fanout', { taskModules: [FIXTURE_TASKS], entry: FIXTURE_HANDLER });
    const client = new iam.Role(stack, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
    fanout.grantClient(client);
    const template = Template.fromStack(stack);
    const id = (construct: { node: { defaultChild?: unknown } }) =>
      stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
    const tableId = id(fanout.table);
    const bucketId = id(fanout.bucket);
    const roles = {
      client: grantedActions(template, id(client)),
      worker: grantedActions(template, id(fanout.workerFunction.role as iam.Role)),
    };

    // Every primitive, through its engine, as a program (or a task: the same code) uses it.
    const config = await provisionForTest('grants');
    const counter = new RequestCounter();
    const backend = new AwsBackend({ config, counter });

    const lock = await AwsLock.create(backend, { recursive: false });
    expect(await lock.acquire(Deadline.never)).toBe(true);
    const condition = AwsCondition.create(lock);
    // A wait that times out: the waiter registers, polls, withdraws its entry, takes the lock back.
    expect(await condition.wait(Deadline.after(50))).toBe(false);
    await condition.notify(1);
    await condition.notify(Infinity);
    await lock.release();

    const semaphore = AwsSemaphore.create(backend, config, 1, 1);
    expect(await semaphore.acquire(Deadline.never)).toBe(true);
    await semaphore.release(1);
    expect(await semaphore.getValue()).toBe(1);

    const event = AwsEvent.create(backend, config);
    await event.set();
    expect(await event.wait(Deadline.now())).toBe(true);
    await event.clear();

    const barrier = AwsBarrier.create(backend, 1, config);
    expect(await barrier.wait(Deadline.never, undefined)).toBe(0);
    await barrier.reset();
    await barrier.abort();
    expect(await barrier.broken()).toBe(true);

    const value = AwsSharedMemory.create(backend, config, 'i', [0]);
    expect(await value.add(0, 2)).toBe(2);
    await value.store(0, 5);
    expect(await value.load(0)).toBe(5);
    const sharded = AwsSharedMemory.create(backend, config, 'i', [0], { shards: 4 });
    await sharded.add(0, 3);
    await sharded.store(0, 7);
    expect(await sharded.load(0)).toBe(7);
    const array = AwsSharedMemory.create(backend, config, 'i', 3);
    await array.store(1, 4);
    expect(await array.loadAll()).toEqual([0, 4, 0]);

    const queue = AwsQueueEngine.create(backend, { maxsize: 2, joinable: true });
    const big = new Uint8Array(400 * 1024).fill(7); // over the 350 KB an item holds: through S3
    expect(await queue.put(big, Deadline.never)).toBe(true);
    expect(await queue.put(new Uint8Array([1]), Deadline.never)).toBe(true);
    expect((await queue.get(Deadline.never))?.length).toBe(big.length);
    expect(await queue.get(Deadline.never)).toEqual(new Uint8Array([1]));
    await queue.flush();
    await queue.taskDone();
    await queue.taskDone();
    await queue.join();

    const channel = AwsChannelEngine.create(backend);
    await channel.send(new Uint8Array([2]));
    expect(await channel.poll(Deadline.never)).toBe(true);
    await channel.recv(Deadline.never);
    channel.closeSender();
    await channel.closed();

    // The table: every granted action is sent (none is granted for nothing), and each sent one is granted.
    const sent = Object.keys(counter.snapshot().requests);
    const sentOn = (service: string) =>
      [...new Set(sent.filter((request) => request.startsWith(`${service}.`)).map(iamAction))].sort();
    expect(sentOn('DynamoDB')).toEqual(roles.client[tableId]);
    expect(sentOn('DynamoDB')).toEqual(roles.worker[tableId]);
    // No queue request from these primitives (a Process's SendMessage is the pool's, granted to both).
    expect(sentOn('SQS')).toEqual([]);
    // The bucket: each key written is under a pattern granting both roles what was sent.
    expect(sentOn('S3')).toEqual(['s3:GetObject', 's3:PutObject']);
    const keys = await bucketKeys(config);
    expect(keys).toHaveLength(1);
    for (const key of keys) {
      for (const granted of Object.values(roles)) {
        const actions = Object.entries(granted)
          .filter(([resource]) => resource.startsWith(`${bucketId}/`) && matches(resource.slice(bucketId.length + 1), key))
          .flatMap(([, actions]) => actions);
        expect(actions, key).toEqual(expect.arrayContaining(sentOn('S3')));
      }
    }
  }, 120_000);
});

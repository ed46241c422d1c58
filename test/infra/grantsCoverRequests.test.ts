import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { Fanout } from '../../infra/Fanout.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskRef } from '../../lib/api/task.js';
import { Deadline } from '../../lib/backend/Deadline.js';
import type { ProcessSpec } from '../../lib/backend/ProcessEngine.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { AwsBarrier } from '../../lib/backends/aws/AwsBarrier.js';
import { AwsChannelEngine } from '../../lib/backends/aws/AwsChannelEngine.js';
import { AwsCondition } from '../../lib/backends/aws/AwsCondition.js';
import { AwsEvent } from '../../lib/backends/aws/AwsEvent.js';
import { AwsLock } from '../../lib/backends/aws/AwsLock.js';
import { AwsProcess } from '../../lib/backends/aws/AwsProcess.js';
import { AwsQueueEngine } from '../../lib/backends/aws/AwsQueueEngine.js';
import { AwsSemaphore } from '../../lib/backends/aws/AwsSemaphore.js';
import { AwsSharedMemory } from '../../lib/backends/aws/AwsSharedMemory.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import { FunctionUrlAdapter } from '../../lib/http/FunctionUrlAdapter.js';
import { ValueEncoder } from '../../lib/codec/ValueEncoder.js';
import { awsProcBigArgs } from '../fixtures/awsProcessTasks.js';
import { bucketKeys, provisionForTest, startFleet } from '../integration/awsHarness.js';
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

/** The client's, the worker role's and the API role's grants by resource, from a synthesized stack. */
function synthesizedGrants(): {
  queueId: string;
  tableId: string;
  bucketId: string;
  roles: { client: Record<string, string[]>; worker: Record<string, string[]>; api: Record<string, string[]> };
} {
  const stack = new Stack(newApp({ bundle: false }), 'Grants');
  const fanout = new Fanout(stack, 'Fanout', { taskModules: [FIXTURE_TASKS], entry: FIXTURE_HANDLER });
  const client = new iam.Role(stack, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
  fanout.grantClient(client);
  const template = Template.fromStack(stack);
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
  return {
    queueId: id(fanout.queue),
    tableId: id(fanout.table),
    bucketId: id(fanout.bucket),
    roles: {
      client: grantedActions(template, id(client)),
      worker: grantedActions(template, id(fanout.workerFunction.role as iam.Role)),
      api: grantedActions(template, id(fanout.apiFunction!.role as iam.Role)),
    },
  };
}

/** The S3 actions `granted` allows on `key` (under the bucket whose logical ID is `bucketId`). */
function objectActions(granted: Record<string, string[]>, bucketId: string, key: string): string[] {
  return Object.entries(granted)
    .filter(([resource]) => resource.startsWith(`${bucketId}/`) && matches(resource.slice(bucketId.length + 1), key))
    .flatMap(([, actions]) => actions)
    .sort();
}

describe('the grants cover the requests of every aws primitive (emulators)', { timeout: SYNTH_TIMEOUT_MS }, () => {
  it('each primitive used once: the table actions sent are exactly those granted to both roles; the S3 keys and actions are granted', async () => {
    const { tableId, bucketId, roles } = synthesizedGrants();

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
      for (const granted of [roles.client, roles.worker]) {
        expect(objectActions(granted, bucketId, key), key).toEqual(expect.arrayContaining(sentOn('S3')));
      }
    }
  }, 120_000);

  it('the jobs API: jobs submitted over HTTP (big items inline, and through an upload), read, listed and cancelled send only what the API role is granted, on keys it is granted', async () => {
    const { queueId, tableId, bucketId, roles } = synthesizedGrants();
    const config = await provisionForTest('grants-api');
    // An API job's chunks name their task only: the fleet imports the task modules, as a worker bundle does.
    const fleet = startFleet(config, { tasks: [new URL('../fixtures/tasks.ts', import.meta.url).href] });
    const counter = new RequestCounter();
    // The deployed handler's API, over a backend of these resources (its counter counts every
    // request the backend sends), with the tasks a bundle would register. The config names the
    // dead-letter queue, as the API function's environment does (FANOUT_DLQ_URL).
    await import('../fixtures/tasks.js');
    const { jobApiFor } = await import('../../functions/api/handler.js');
    const api = jobApiFor(new AwsBackend({ config, counter }));
    const adapter = await FunctionUrlAdapter.start({ verifier: null, handler: (event) => api.handle(event) });
    try {
      await fleet.ready;
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${adapter.url}${path}`, {
          method,
          ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      const settled = async (jobId: string) => {
        for (let i = 0; i < 600; i++) {
          const { body } = await call('GET', `/jobs/${jobId}`);
          if (body.status !== 'queued' && body.status !== 'running') return body;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`job ${jobId} did not settle`);
      };
      // Over what a message and an item hold: the chunk's arguments and its result go through S3.
      const big = 'x'.repeat(1_100_000);
      const inline = await call('POST', '/jobs', { task: 'echo', items: [big, 'small'], chunksize: 1 });
      expect(inline).toMatchObject({ status: 202, body: { total: 2 } });
      const inlineId = inline.body.jobId as string;
      expect(await settled(inlineId)).toMatchObject({ status: 'succeeded', done: 2, failed: 0 });
      const results = await call('GET', `/jobs/${inlineId}/results`);
      expect(results.status).toBe(200);
      expect((results.body.results as string[]).map((value) => value.length)).toEqual([big.length, 5]);

      const upload = await call('POST', '/uploads', {});
      expect(upload.status).toBe(201);
      const uploadUrl = new URL(upload.body.url as string);
      expect((await fetch(uploadUrl, { method: 'PUT', body: JSON.stringify([1, 2, 3]) })).status).toBe(200);
      const uploaded = await call('POST', '/jobs', { task: 'square', itemsUpload: upload.body.uploadId });
      expect(uploaded).toMatchObject({ status: 202, body: { total: 3 } });
      expect((await call('DELETE', `/jobs/${uploaded.body.jobId as string}`)).status).toBe(202);
      expect((await call('GET', '/jobs')).status).toBe(200);

      const sent = Object.keys(counter.snapshot().requests);
      const sentOn = (service: string) =>
        [...new Set(sent.filter((request) => request.startsWith(`${service}.`)).map(iamAction))].sort();
      const ungranted = (service: string, granted: string[] | undefined) =>
        sentOn(service).filter((action) => !(granted ?? []).includes(action));
      expect(ungranted('DynamoDB', roles.api[tableId])).toEqual([]);
      expect(ungranted('SQS', roles.api[queueId])).toEqual([]);
      expect(sentOn('SQS')).toEqual(roles.api[queueId]);
      // The objects: chunk arguments written by the API, results read by it, the upload written
      // (with its presigned URL), read and deleted by it; each under a pattern granting that.
      expect(sentOn('S3')).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
      const keys = await bucketKeys(config);
      const argumentKeys = keys.filter((key) => /^runs\/[^/]+\/args\//.test(key));
      const resultKeys = keys.filter((key) => /^runs\/[^/]+\/results\//.test(key));
      expect(argumentKeys.length).toBeGreaterThan(0);
      expect(resultKeys.length).toBeGreaterThan(0);
      for (const key of argumentKeys)
        expect(objectActions(roles.api, bucketId, key)).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
      for (const key of resultKeys) expect(objectActions(roles.api, bucketId, key)).toEqual(['s3:GetObject']);
      const uploadKey = decodeURIComponent(uploadUrl.pathname).replace(/^\/[^/]+\//, '');
      expect(uploadKey).toMatch(/^uploads\/[0-9a-z]{26}$/);
      expect(objectActions(roles.api, bucketId, uploadKey)).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
      // Every granted table action is one the API sends (none is granted for nothing).
      expect(sentOn('DynamoDB')).toEqual(roles.api[tableId]);
    } finally {
      await adapter.stop();
      await fleet.stop();
    }
  }, 120_000);

  it('a Process with big arguments, started by a program and run by a worker: the program sends what it is granted, and its arguments key is granted to both sides', async () => {
    const { queueId, tableId, bucketId, roles } = synthesizedGrants();
    const config = await provisionForTest('grants-proc');
    const fleet = startFleet(config);
    try {
      await fleet.ready;
      const counter = new RequestCounter();
      const log = join(mkdtempSync(join(tmpdir(), 'fanout-grants-')), 'runs.log');
      const args = [log, 'x'.repeat(300_000)] as [string, string]; // over a message: through S3
      const encoder = new ValueEncoder();
      encoder.write(args, 'the arguments');
      const { attachments, transfer } = encoder.takeAttachments();
      const spec: ProcessSpec = {
        target: taskRef(awsProcBigArgs, 'test'),
        args: encoder.finish(),
        attachments,
        transfer,
        name: 'Process-1',
        daemon: false,
        identity: [1],
        parent: { name: 'MainProcess', pid: 0, daemon: false, identity: [] },
      };
      const started = new AwsProcess(new AwsBackend({ config, counter }), spec, { leaseMs: 1_000 });
      expect(await started.exited).toBe(0);
      expect(readFileSync(log, 'utf8')).toBe('300000\n');

      const sent = Object.keys(counter.snapshot().requests);
      const sentOn = (service: string) =>
        [...new Set(sent.filter((request) => request.startsWith(`${service}.`)).map(iamAction))].sort();
      expect(
        sentOn('DynamoDB').every((action) => roles.client[tableId]!.includes(action)),
        sentOn('DynamoDB').join(),
      ).toBe(true);
      expect(
        sentOn('SQS').every((action) => roles.client[queueId]!.includes(action)),
        sentOn('SQS').join(),
      ).toBe(true);
      expect(sentOn('SQS')).toEqual(roles.api[queueId]);
      expect(sentOn('S3')).toEqual(['s3:PutObject']);
      // The one object, the arguments: the program writes it, the worker reads it (and a task
      // starting a Process writes one: the worker may write it too).
      const keys = await bucketKeys(config);
      expect(keys).toHaveLength(1);
      expect(objectActions(roles.client, bucketId, keys[0]!)).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
      expect(objectActions(roles.worker, bucketId, keys[0]!)).toEqual([
        's3:AbortMultipartUpload',
        's3:GetObject',
        's3:PutObject',
      ]);
    } finally {
      await fleet.stop();
    }
  }, 120_000);
});

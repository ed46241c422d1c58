import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { WorkerCrashedError } from 'fanout';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import type { ProvisionedStack } from '../../lib/backends/aws/StackProvisioner.js';
import { awsExit, awsLogged } from '../fixtures/awsTasks.js';
import { square } from '../fixtures/tasks.js';
import { provisionAsset, startRunner, type TestRunner } from './assetHarness.js';
import { awsContext, chunkRecords, queueDepth, waitFor } from './awsHarness.js';
import { receiveRecords } from './lambdaInvoke.js';

// Faults of the deployed worker: the asset synthesized by the repository's CDK app (cdk.out's
// index.mjs) under the Lambda runner, on the stack provisioned from its template. The same faults
// are tested on the handler in process in aws.deadline.test.ts; these prove the shipped artifact
// behaves the same way under a Lambda-shaped runtime (its own process, its timeout, the freeze).

/** How many times each item ran, from a log with one line per run. */
function runsOf(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(log)) return counts;
  for (const line of readFileSync(log, 'utf8').split('\n')) if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

function newLog(prefix: string): string {
  return join(mkdtempSync(join(tmpdir(), `fanout-asset-${prefix}-`)), 'runs.log');
}

describe('the deployed worker asset with a batch over its deadline', () => {
  let stack: ProvisionedStack;
  let lambda: TestRunner;

  beforeAll(async () => {
    // The case: a 3 s function timeout. A visibility timeout of 120 s: a chunk that was not
    // handed back visible at once would wait two minutes, past this test's own timeout.
    stack = await provisionAsset('asset-deadline', { overrides: { functionTimeoutSeconds: 3, visibilityTimeoutSeconds: 120 } });
    // One environment of 1,769 MB: one worker thread.
    lambda = await startRunner(stack, { maxEnvironments: 1 });
  });

  afterAll(async () => {
    await lambda?.stop();
  });

  it('runs ten 1.6 s chunks on one thread: results right, each recorded once, none dead-lettered, none waiting out its visibility', async () => {
    const { context } = awsContext(stack.config);
    await using pool = new context.Pool(10);
    // A warm environment first: the task's speed is then known when the batch below arrives.
    expect(await pool.apply(square, [4])).toBe(16);
    const log = newLog('deadline');
    const items = Array.from({ length: 10 }, (_, i) => [log, i, 1600] as [string, number, number]);
    const started = performance.now();
    expect(await pool.starmap(awsLogged, items, { chunksize: 1, timeout: 100_000 })).toEqual(items.map(([, x]) => x * 2));
    const elapsedMs = performance.now() - started;
    const records = [...(await chunkRecords(stack.config)).values()];
    // The warm-up's chunk and the ten.
    expect(records).toHaveLength(11);
    expect(records.every((record) => record.count === 1 && record.status === 'ok')).toBe(true);
    expect(await queueDepth(stack.config, stack.config.deadLetterQueueUrl!)).toBe(0);
    expect(await queueDepth(stack.config, stack.config.queueUrl)).toBe(0);
    // Not one invocation was killed at the timeout, nor rejected by middy's early timeout.
    const outcomes = lambda.records.map((record) => record.outcome.status);
    expect(outcomes.every((status) => status === 'success')).toBe(true);
    expect(lambda.runner.stats()).toMatchObject({ timeouts: 0, crashes: 0, errors: 0 });
    // At most one 1.6 s chunk fits in 3 s: the batch took several invocations, with hand-backs.
    expect(outcomes.length).toBeGreaterThanOrEqual(1 + 10);
    const runs = runsOf(log);
    expect([...runs.keys()].sort()).toEqual(items.map(([, x]) => String(x)).sort());
    const totalRuns = [...runs.values()].reduce((a, b) => a + b, 0);
    console.log(
      `asset deadline: 10 chunks of 1.6 s in ${(elapsedMs / 1000).toFixed(1)} s, ${outcomes.length - 1} invocations, ` +
        `${totalRuns} runs (${totalRuns - 10} stopped at a deadline and run again)`,
    );
  }, 120_000);
});

describe('the deployed worker asset with a thread that dies every time', () => {
  let stack: ProvisionedStack;
  let lambda: TestRunner;

  beforeAll(async () => {
    // The stack's own visibility timeout and maxReceiveCount: a crash must not wait for the visibility.
    stack = await provisionAsset('asset-crash');
    lambda = await startRunner(stack, { maxEnvironments: 1 });
  });

  afterAll(async () => {
    await lambda?.stop();
  });

  it('fails the call with WorkerCrashedError after maxReceiveCount quick deliveries; nothing in the dead-letter queue', async () => {
    const { context } = awsContext(stack.config);
    await using pool = new context.Pool(1);
    const started = performance.now();
    // Bounded: the call's own timeout is far below the stack's visibility timeout.
    const error = (await pool.apply(awsExit, [7], { timeout: 75_000 }).catch((e: unknown) => e)) as WorkerCrashedError;
    const elapsedMs = performance.now() - started;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toContain("task 'aws.exit'");
    expect(error.message).toContain('crashed its worker on 5 deliveries');
    expect(error.message).toContain('exited with code 7');
    const statuses = [...(await chunkRecords(stack.config)).values()].map((record) => record.status);
    expect(statuses).toEqual(['dead']);
    // The worker recorded the chunk dead itself: it did not leave it for the queue's redrive.
    expect(await queueDepth(stack.config, stack.config.deadLetterQueueUrl!)).toBe(0);
    expect(await queueDepth(stack.config, stack.config.queueUrl)).toBe(0);
    // A thread's death is not the environment's: the runtime lived on (the handler returned).
    expect(lambda.runner.stats()).toMatchObject({ timeouts: 0, crashes: 0 });
    const clients = new AwsClients(stack.config);
    try {
      const attributes = await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.config.queueUrl,
          AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'],
        }),
      );
      // The stack's defaults, as synthesized: the crash did not wait for this visibility timeout.
      expect(attributes.Attributes?.VisibilityTimeout).toBe('600');
      expect(Number(JSON.parse(attributes.Attributes!.RedrivePolicy!).maxReceiveCount)).toBe(5);
    } finally {
      clients.destroy();
    }
    console.log(
      `asset crash: WorkerCrashedError after ${(elapsedMs / 1000).toFixed(1)} s and ${lambda.records.length} invocations ` +
        '(the stack defaults: visibility 600 s, maxReceiveCount 5)',
    );
  }, 90_000);
});

describe('the deployed worker asset with one batch delivered to two environments at once', () => {
  let stack: ProvisionedStack;
  let lambda: TestRunner;

  beforeAll(async () => {
    stack = await provisionAsset('asset-duplicate');
    // No event source: this test receives the batch and invokes the function itself, twice.
    lambda = await startRunner(stack, { maxEnvironments: 2, eventSource: undefined });
  });

  afterAll(async () => {
    await lambda?.stop();
  });

  it('records every result exactly once; the task runs in both, with no error', async () => {
    const { context } = awsContext(stack.config);
    await using pool = new context.Pool(4);
    const log = newLog('duplicate');
    const items = Array.from({ length: 4 }, (_, i) => [log, i, 300] as [string, number, number]);
    const mapped = pool.starmapAsync(awsLogged, items, { chunksize: 1 });
    const clients = new AwsClients(stack.config);
    let responses: SQSBatchResponse[];
    try {
      await waitFor(async () => (await queueDepth(stack.config, stack.config.queueUrl)) === 4, 20_000, '4 messages on the queue');
      const batch: SQSRecord[] = [];
      while (batch.length < 4) batch.push(...(await receiveRecords(clients, { max: 4 - batch.length, waitSeconds: 1 })));
      // The same event, in two environments at once: as when SQS delivers a message twice
      // (at-least-once) to two of Lambda's pollers.
      const invocations = await Promise.all([lambda.runner.invoke({ Records: batch }), lambda.runner.invoke({ Records: batch })]);
      expect(invocations.map((record) => record.outcome.status)).toEqual(['success', 'success']);
      expect(new Set(invocations.map((record) => record.environmentId)).size).toBe(2);
      responses = invocations.map((record) => (record.outcome as { response: SQSBatchResponse }).response);
      // Deleted as the event source does: what neither reported as a failure.
      const failed = new Set(
        responses.flatMap((response) => response.batchItemFailures.map((failure) => failure.itemIdentifier)),
      );
      const done = batch.filter((record) => !failed.has(record.messageId));
      if (done.length > 0) {
        await clients.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: stack.config.queueUrl,
            Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
          }),
        );
      }
    } finally {
      clients.destroy();
    }
    expect(responses.map((response) => response.batchItemFailures)).toEqual([[], []]);
    expect(await mapped.get()).toEqual(items.map(([, x]) => x * 2));
    const records = [...(await chunkRecords(stack.config)).values()];
    expect(records).toHaveLength(4);
    expect(records.every((record) => record.count === 1 && record.status === 'ok')).toBe(true);
    expect(await queueDepth(stack.config, stack.config.queueUrl)).toBe(0);
    expect(await queueDepth(stack.config, stack.config.deadLetterQueueUrl!)).toBe(0);
    // Side effects are at least once: both environments ran every item (a task must be
    // idempotent in its side effects, as docs/aws.md says); the record is once.
    const runs = runsOf(log);
    expect([...runs.keys()].sort()).toEqual(['0', '1', '2', '3']);
    const totalRuns = [...runs.values()].reduce((a, b) => a + b, 0);
    expect(totalRuns).toBeGreaterThanOrEqual(4);
    expect(totalRuns).toBeLessThanOrEqual(8);
    console.log(`asset duplicate: ${totalRuns} runs of 4 items in two environments, each recorded once`);
  }, 60_000);
});

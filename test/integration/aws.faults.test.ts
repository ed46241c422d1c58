import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { WorkerCrashedError } from 'fanout';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import { ChunkProcessor } from '../../lib/backends/aws/ChunkProcessor.js';
import { configEnvironment } from '../../lib/backends/aws/emulator.js';
import { awsExit, awsLogged } from '../fixtures/awsTasks.js';
import { square } from '../fixtures/tasks.js';
import { awsContext, chunkRecords, provisionForTest, queueDepth, startFleet, waitFor } from './awsHarness.js';

const repo = new URL('../../', import.meta.url).pathname;

function runsPerItem(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(log)) return counts;
  for (const line of readFileSync(log, 'utf8').split('\n')) if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

describe('aws backend on the emulators: faults', () => {
  it('ignores the same message delivered twice: results recorded once, nothing lost or doubled', async () => {
    const config = await provisionForTest('dup', { visibilityTimeoutSeconds: 20 });
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-dup-')), 'runs.log');
    const { context } = awsContext(config);
    const pool = new context.Pool(4);
    const items = Array.from({ length: 12 }, (_, i) => [log, i, 0] as [string, number, number]);
    const mapped = pool.starmapAsync(awsLogged, items, { chunksize: 1 });
    // No worker yet: copy every message, so that the queue holds each chunk twice.
    await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 12, 20_000, '12 messages on the queue');
    const clients = new AwsClients(config);
    let copied = 0;
    while (copied < 12) {
      const received = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: config.queueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 1,
          // The originals come back a second after this receive, next to their copies.
          VisibilityTimeout: 1,
        }),
      );
      for (const message of received.Messages ?? []) {
        await clients.sqs.send(
          new SendMessageCommand({
            QueueUrl: config.queueUrl,
            MessageBody: message.Body!,
            MessageAttributes: message.MessageAttributes,
          }),
        );
        copied++;
      }
    }
    clients.destroy();
    const fleet = startFleet(config);
    try {
      expect(await mapped.get()).toEqual(items.map(([, x]) => x * 2));
      pool.close();
      await pool.join();
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 30_000, 'the queue to drain');
    } finally {
      const summary = await fleet.stop();
      expect(summary.processor?.chunksRecorded).toBe(12);
      // Every copy was skipped (or its write refused); a slow batch may be redelivered once more.
      expect(summary.processor?.chunksSkipped).toBeGreaterThanOrEqual(12);
    }
    const records = [...(await chunkRecords(config)).values()];
    expect(records).toHaveLength(12);
    expect(records.every((record) => record.count === 1 && record.status === 'ok')).toBe(true);
    expect(pool.stats().itemsCompleted).toBe(12);
    expect([...runsPerItem(log).keys()].sort()).toEqual(items.map(([, x]) => String(x)).sort());
  }, 90_000);

  it('records a chunk once when both copies of a message arrive in one batch and both run', async () => {
    const config = await provisionForTest('dupbatch');
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-dupb-')), 'runs.log');
    const { context } = awsContext(config);
    const pool = new context.Pool(1);
    const result = pool.applyAsync(awsLogged, [log, 5, 0]);
    await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 1, 20_000, 'the message on the queue');
    const clients = new AwsClients(config);
    const received = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: config.queueUrl,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        VisibilityTimeout: 60,
      }),
    );
    const message = received.Messages![0]!;
    const record = (id: string): SQSEvent['Records'][number] => ({
      messageId: id,
      receiptHandle: message.ReceiptHandle!,
      body: message.Body!,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '', SenderId: '', ApproximateFirstReceiveTimestamp: '' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn',
      awsRegion: config.region,
    });
    const processor = new ChunkProcessor({ clients, threads: 2 });
    try {
      // Both copies pass the pre-check together and both run: the conditional put keeps one.
      const first = await processor.handleEvent({ Records: [record('a'), record('b')] });
      expect(first.batchItemFailures).toEqual([]);
      expect(processor.stats()).toMatchObject({ chunksRecorded: 1, chunksSkipped: 1, chunksRetried: 0 });
      expect(runsPerItem(log).get('5')).toBe(2);
      // Delivered again later: skipped before running.
      const again = await processor.handleEvent({ Records: [record('c')] });
      expect(again.batchItemFailures).toEqual([]);
      expect(processor.stats()).toMatchObject({ chunksRecorded: 1, chunksSkipped: 2 });
      expect(runsPerItem(log).get('5')).toBe(2);
    } finally {
      await processor.close();
      clients.destroy();
    }
    expect(await result.get()).toBe(10);
    await pool.terminate();
  }, 60_000);

  it('redelivers the chunk of a killed worker process after the visibility timeout and records it once', async () => {
    const config = await provisionForTest('kill', { visibilityTimeoutSeconds: 4 });
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-kill-')), 'runs.log');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/worker.ts', '--threads', '1', '--wait-time', '1', '--quiet'],
      {
        cwd: repo,
        env: { ...process.env, ...configEnvironment(config) },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const { context } = awsContext(config);
    await using pool = new context.Pool(4);
    const items = Array.from({ length: 4 }, (_, i) => [log, i, 1500] as [string, number, number]);
    const mapped = pool.starmapAsync(awsLogged, items, { chunksize: 1 });
    let fleet: ReturnType<typeof startFleet> | undefined;
    try {
      // Kill the worker process while it runs a chunk (the task has logged its start).
      await waitFor(() => runsPerItem(log).size > 0, 60_000, 'the worker process to start a chunk');
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const startedBeforeKill = [...runsPerItem(log).keys()];
      fleet = startFleet(config);
      expect(await mapped.get()).toEqual([0, 2, 4, 6]);
      const runs = runsPerItem(log);
      for (const item of startedBeforeKill) expect(runs.get(item)).toBeGreaterThanOrEqual(2);
    } finally {
      child.kill('SIGKILL');
      await fleet?.stop();
    }
    const records = [...(await chunkRecords(config)).values()];
    expect(records).toHaveLength(4);
    expect(records.every((record) => record.count === 1 && record.status === 'ok')).toBe(true);
  }, 120_000);

  it('fails a job whose chunk keeps crashing its worker with a clear error once it is in the dead-letter queue', async () => {
    // maxReceiveCount 2 (the stack uses 5) and a 1 s visibility timeout keep the test short.
    const config = await provisionForTest('poison', { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    const fleet = startFleet(config);
    const { context } = awsContext(config);
    try {
      await using pool = new context.Pool(2);
      const error = await pool.apply(awsExit, [7]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as Error).message).toMatch(/dead-letter queue/);
      expect((error as Error).message).toContain("task 'aws.exit'");
      // The pool still works, and a map with a poison item fails rather than hangs.
      expect(await pool.map(square, [1, 2, 3])).toEqual([1, 4, 9]);
      const mapError = await pool.starmap(awsExit, [[3]], { chunksize: 1 }).catch((e: unknown) => e);
      expect(mapError).toBeInstanceOf(WorkerCrashedError);
    } finally {
      const summary = await fleet.stop();
      // Each poison chunk is released once after its first crash; its second (the queue's
      // maxReceiveCount) is recorded by the worker as dead, with the crash's reason.
      expect(summary.processor?.chunksRetried).toBeGreaterThanOrEqual(2);
      expect(summary.processor?.chunksDead).toBe(2);
    }
    const records = [...(await chunkRecords(config)).values()];
    expect(records.filter((record) => record.status === 'dead')).toHaveLength(2);
    expect(await queueDepth(config, config.deadLetterQueueUrl!)).toBe(0);
  }, 120_000);
});

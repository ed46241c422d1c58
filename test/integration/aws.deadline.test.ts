import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { ChunkTooLongError, WorkerCrashedError } from 'fanout';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import {
  closeWorkerRuntime,
  configureWorkerRuntime,
  warmUpWorkerRuntime,
  workerRuntimeStats,
} from '../../lib/backends/aws/workerRuntime.js';
import { awsExit, awsLogged } from '../fixtures/awsTasks.js';
import { awsContext, chunkRecords, provisionForTest, queueDepth, waitFor } from './awsHarness.js';
import { invokeHandler, receiveRecords } from './lambdaInvoke.js';

// The worker Lambda's handler, driven in this process as Lambda's event source drives it (see
// lambdaInvoke.ts): real messages from the emulated queue, a context whose remaining time counts
// down in real time, successes deleted after the invocation. One thread, as a 1,769 MB Lambda.

function runsOf(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(log)) return counts;
  for (const line of readFileSync(log, 'utf8').split('\n')) if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

function newLog(): string {
  return join(mkdtempSync(join(tmpdir(), 'fanout-deadline-')), 'runs.log');
}

/** Receives until `count` messages are in hand; fewer means the others are not visible. */
async function receiveVisible(clients: AwsClients, count: number): Promise<SQSRecord[]> {
  const records: SQSRecord[] = [];
  while (records.length < count) {
    const received = await receiveRecords(clients, { max: Math.min(10, count - records.length), waitSeconds: 1 });
    if (received.length === 0) break;
    records.push(...received);
  }
  return records;
}

/** A worker runtime on these resources with one thread, its init phase done (threads up). */
async function startRuntime(config: AwsConfig): Promise<void> {
  configureWorkerRuntime({ config, threads: 1 });
  await warmUpWorkerRuntime();
}

describe('the worker handler against its deadline (emulators, real SDK, in process)', () => {
  afterAll(() => closeWorkerRuntime());

  it('a batch over the deadline: runs what fits, hands the rest back visible at once; nothing lost, recorded twice or dead-lettered', async () => {
    // A long visibility timeout: a message that is not handed back explicitly stays hidden for 2 minutes.
    const config = await provisionForTest('deadline', { visibilityTimeoutSeconds: 120, maxReceiveCount: 5 });
    await startRuntime(config);
    const { context } = awsContext(config);
    await using pool = new context.Pool(10);
    const log = newLog();
    // The case: ten chunks of 1.6 s on one thread, a 3 s function timeout.
    const items = Array.from({ length: 10 }, (_, i) => [log, i, 1600] as [string, number, number]);
    const mapped = pool.starmapAsync(awsLogged, items, { chunksize: 1 });
    await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 10, 20_000, '10 messages on the queue');
    const clients = new AwsClients(config);
    let maxReceiveCount = 0;
    let invocations = 0;
    try {
      for (let outstanding = 10; outstanding > 0;) {
        // Every chunk not yet recorded is visible right away: those handed back were made visible at once.
        const records = await receiveVisible(clients, outstanding);
        expect(records).toHaveLength(outstanding);
        for (const record of records)
          maxReceiveCount = Math.max(maxReceiveCount, Number(record.attributes.ApproximateReceiveCount));
        await invokeHandler(clients, records, 3000);
        invocations++;
        outstanding = 10 - (await workerRuntimeStats())!.chunksRecorded;
      }
      expect(await mapped.get()).toEqual(items.map(([, x]) => x * 2));
    } finally {
      clients.destroy();
    }
    const stats = (await workerRuntimeStats())!;
    expect(stats).toMatchObject({ chunksRecorded: 10, chunksTooLong: 0, chunksDead: 0 });
    // At most one chunk fits an invocation: the others were handed back, some as fresh copies
    // once their receive count neared the queue's limit, so that none reached it.
    expect(invocations).toBeGreaterThanOrEqual(10);
    expect(stats.chunksReturned).toBeGreaterThanOrEqual(9 + 8 + 7 + 6 + 5 + 4 + 3 + 2 + 1);
    expect(stats.chunksReplaced).toBeGreaterThan(0);
    expect(maxReceiveCount).toBeLessThan(5);
    const records = [...(await chunkRecords(config)).values()];
    expect(records).toHaveLength(10);
    expect(records.every((record) => record.count === 1 && record.status === 'ok')).toBe(true);
    expect(await queueDepth(config, config.deadLetterQueueUrl!)).toBe(0);
    expect(await queueDepth(config, config.queueUrl)).toBe(0);
    // Each item ran, and again only after its chunk was stopped at a deadline: at most once more per
    // stop (a stop can come before the stopped chunk's task began, on a loaded machine).
    const runs = runsOf(log);
    expect([...runs.keys()].sort()).toEqual(items.map(([, x]) => String(x)).sort());
    const total = [...runs.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(10);
    expect(total).toBeLessThanOrEqual(10 + stats.chunksStopped);
  }, 180_000);

  it('a chunk longer than the function timeout fails its call with ChunkTooLongError after one attempt', async () => {
    const config = await provisionForTest('toolong', { visibilityTimeoutSeconds: 120, maxReceiveCount: 5 });
    await startRuntime(config);
    const { context } = awsContext(config);
    await using pool = new context.Pool(2);
    const log = newLog();
    const clients = new AwsClients(config);
    try {
      // A warm worker: it has run the task before (its module is loaded on the thread).
      const first = pool.apply(awsLogged, [log, 0, 0]);
      await invokeHandler(clients, await receiveVisible(clients, 1), 3000);
      expect(await first).toBe(0);
      const long = pool.apply(awsLogged, [log, 1, 10_000]).catch((error: unknown) => error);
      const records = await receiveVisible(clients, 1);
      const response = await invokeHandler(clients, records, 3000);
      // Done with: recorded as failed, not handed back for four more tries.
      expect(response.batchItemFailures).toEqual([]);
      const error = (await long) as ChunkTooLongError;
      expect(error).toBeInstanceOf(ChunkTooLongError);
      expect(error.code).toBe('ERR_CHUNK_TOO_LONG');
      expect(error.taskName).toBe('aws.logged');
      // The invocation gives a chunk its 3 s timeout (as read at its start) less a reserve of 500 ms.
      expect(error.timeoutMs).toBeGreaterThan(2400);
      expect(error.timeoutMs).toBeLessThanOrEqual(2500);
      expect(error.ranMs).toBeGreaterThanOrEqual(0.9 * error.timeoutMs);
      expect(error.message).toMatch(/task 'aws\.logged'.* ran [\d,]+ ms .* at most 2,[45]\d\d ms .*timeout of [23],\d{3} ms/);
    } finally {
      clients.destroy();
    }
    expect(runsOf(log).get('1')).toBe(1);
    expect((await workerRuntimeStats())!).toMatchObject({ chunksTooLong: 1, chunksStopped: 1 });
    expect(await queueDepth(config, config.queueUrl)).toBe(0);
    expect(await queueDepth(config, config.deadLetterQueueUrl!)).toBe(0);
  }, 60_000);

  it('a thread that dies every time fails its call with WorkerCrashedError after maxReceiveCount quick deliveries', async () => {
    // The stack's defaults: five receives, and a visibility timeout of 30 minutes that a crash never waits for.
    const config = await provisionForTest('crashing', { visibilityTimeoutSeconds: 1800, maxReceiveCount: 5 });
    await startRuntime(config);
    const { context } = awsContext(config);
    await using pool = new context.Pool(2);
    let settled = false;
    const call = pool
      .apply(awsExit, [7])
      .catch((error: unknown) => error)
      .finally(() => (settled = true));
    const clients = new AwsClients(config);
    let invocations = 0;
    try {
      while (!settled) {
        // Released with a back-off of 1, 2, 4, 8 s: the chunk comes back within seconds.
        const records = await receiveRecords(clients, { waitSeconds: 2 });
        if (records.length > 0) {
          await invokeHandler(clients, records, 60_000);
          invocations++;
        }
      }
    } finally {
      clients.destroy();
    }
    const error = (await call) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toContain("task 'aws.exit'");
    expect(error.message).toContain('crashed its worker on 5 deliveries');
    expect(error.message).toContain('exited with code 7');
    expect(invocations).toBe(5);
    expect((await workerRuntimeStats())!).toMatchObject({ chunksRetried: 4, chunksDead: 1 });
    const statuses = [...(await chunkRecords(config)).values()].map((record) => record.status);
    expect(statuses).toEqual(['dead']);
    expect(await queueDepth(config, config.queueUrl)).toBe(0);
    expect(await queueDepth(config, config.deadLetterQueueUrl!)).toBe(0);
  }, 90_000);

  it('keeps a chunk longer than the visibility timeout hidden while it runs: no second delivery', async () => {
    const config = await provisionForTest('heartbeat', { visibilityTimeoutSeconds: 2, maxReceiveCount: 5 });
    await startRuntime(config);
    const { context } = awsContext(config);
    await using pool = new context.Pool(2);
    const log = newLog();
    const clients = new AwsClients(config);
    const elsewhere = new AwsClients(config);
    try {
      const result = pool.apply(awsLogged, [log, 3, 5000]);
      const records = await receiveVisible(clients, 1);
      let running = true;
      const invocation = invokeHandler(clients, records, 30_000).finally(() => (running = false));
      // Another environment polls meanwhile: the message would be visible again after 2 s.
      let seenElsewhere = 0;
      while (running) seenElsewhere += (await receiveRecords(elsewhere, { waitSeconds: 1 })).length;
      expect((await invocation).batchItemFailures).toEqual([]);
      expect(seenElsewhere).toBe(0);
      expect(await result).toBe(6);
    } finally {
      clients.destroy();
      elsewhere.destroy();
    }
    expect(runsOf(log).get('3')).toBe(1);
    expect((await workerRuntimeStats())!.visibilityExtensions).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

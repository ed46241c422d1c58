import { describe, expect, it } from 'vitest';
import { NoWorkersError } from 'fanout';
import { Context } from '../../lib/api/Context.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import { awsLogged } from '../fixtures/awsTasks.js';
import { square } from '../fixtures/tasks.js';
import { chunkRecords, provisionForTest, startFleet } from './awsHarness.js';

/** Collects the process warnings with this code while `body` runs. */
async function collectWarnings<T>(code: string, body: () => Promise<T>): Promise<{ result: T; warnings: Error[] }> {
  const warnings: Error[] = [];
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === code) warnings.push(warning);
  };
  process.on('warning', onWarning);
  try {
    return { result: await body(), warnings };
  } finally {
    process.off('warning', onWarning);
  }
}

describe('aws backend on the emulators: no silent waits', () => {
  it('warns once when nobody receives a pool’s chunks, then fails the call with NoWorkersError; later workers skip them', async () => {
    const config = await provisionForTest('noworkers');
    const counter = new RequestCounter();
    const context = new Context(new AwsBackend({ config, counter, noWorkerTimeout: 15_000 }));
    await using pool = new context.Pool(2);
    const { result: errors, warnings } = await collectWarnings('FANOUT_NO_WORKERS', async () => [
      await pool.map(square, [1, 2, 3]).catch((error: unknown) => error),
      await pool.apply(square, [4]).catch((error: unknown) => error),
    ]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(NoWorkersError);
      expect((error as NoWorkersError).code).toBe('ERR_NO_WORKERS');
      expect((error as NoWorkersError).queueUrl).toBe(config.queueUrl);
      expect((error as NoWorkersError).waitedMs).toBeGreaterThanOrEqual(15_000);
      expect((error as Error).message).toContain(config.queueUrl);
      expect((error as Error).message).toContain('npx fanout worker');
      expect((error as Error).message).toContain('FANOUT_NO_WORKER_TIMEOUT_MS');
    }
    // Once per pool, naming the queue and how to start workers.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain(config.queueUrl);
    expect(warnings[0]!.message).toMatch(/npx fanout worker.*deploy/);
    // The looks at the queue: one GetQueueAttributes at 10 s and at 15 s of each call's wait.
    expect(counter.snapshot().requests['SQS.GetQueueAttributes']).toBeLessThanOrEqual(2 * 2 + 1);
    // Workers that start later skip the failed calls' chunks (marked cancelled), and the pool works.
    const fleet = startFleet(config);
    try {
      await fleet.ready;
      expect(await pool.map(square, [5, 6])).toEqual([25, 36]);
    } finally {
      await fleet.stop();
    }
    const statuses = [...(await chunkRecords(config)).values()].map((record) => record.status).sort();
    expect(statuses).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled', 'ok', 'ok']);
  }, 90_000);

  it('does not warn while a worker runs a long chunk (its message is in flight)', async () => {
    const config = await provisionForTest('busyworker');
    const fleet = startFleet(config, { threads: 1, concurrency: 1, batchSize: 1 });
    try {
      await fleet.ready;
      const context = new Context(new AwsBackend({ config, noWorkerTimeout: 12_000 }));
      await using pool = new context.Pool(1);
      const { result, warnings } = await collectWarnings('FANOUT_NO_WORKERS', () =>
        pool.apply(awsLogged, ['/dev/null', 7, 16_000]),
      );
      expect(result).toBe(14);
      expect(warnings).toEqual([]);
    } finally {
      await fleet.stop();
    }
  }, 90_000);
});

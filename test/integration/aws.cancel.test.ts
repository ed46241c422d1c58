import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PoolClosedError, TimeoutError } from 'fanout';
import { awsLogged } from '../fixtures/awsTasks.js';
import { square } from '../fixtures/tasks.js';
import { awsContext, chunkRecords, provisionForTest, queueDepth, startFleet, waitFor } from './awsHarness.js';

function linesIn(log: string): number {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
}

function slowItems(log: string, count: number, ms: number): Array<[string, number, number]> {
  return Array.from({ length: count }, (_, i) => [log, i, ms]);
}

describe('aws backend on the emulators: cancellation', () => {
  it('a timeout fails the call at once; workers skip its cancelled chunks', async () => {
    const config = await provisionForTest('timeout');
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-cancel-')), 'runs.log');
    // One thread and one batch of one message at a time: most chunks are still queued at the timeout.
    const fleet = startFleet(config, { threads: 1, concurrency: 1, batchSize: 1 });
    const { context } = awsContext(config);
    const pool = new context.Pool(4);
    try {
      const error = await pool
        .starmap(awsLogged, slowItems(log, 20, 300), { chunksize: 1, timeout: 1500 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 60_000, 'the queue to drain');
      expect(linesIn(log)).toBeLessThan(20);
      // The pool goes on working after a cancelled call.
      expect(await pool.map(square, [2, 3])).toEqual([4, 9]);
    } finally {
      pool.close();
      await pool.join();
      const summary = await fleet.stop();
      expect(summary.processor?.chunksSkipped).toBeGreaterThan(0);
    }
    const statuses = [...(await chunkRecords(config)).values()].map((record) => record.status);
    expect(statuses).toContain('cancelled');
    // Recorded results: the two of the later map, plus at most the chunks that ran before the cancel.
    const ok = statuses.filter((status) => status === 'ok').length;
    expect(ok).toBeGreaterThanOrEqual(2);
    expect(ok).toBeLessThanOrEqual(linesIn(log) + 2);
  }, 120_000);

  it('an aborted signal fails the call at once with AbortError, its reason as cause', async () => {
    const config = await provisionForTest('abort');
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-abort-')), 'runs.log');
    const fleet = startFleet(config, { threads: 1, concurrency: 1, batchSize: 1 });
    const { context } = awsContext(config);
    try {
      await using pool = new context.Pool(4);
      const controller = new AbortController();
      const mapped = pool.starmapAsync(awsLogged, slowItems(log, 10, 300), { chunksize: 1, signal: controller.signal });
      await waitFor(() => linesIn(log) > 0, 60_000, 'the first chunk to start');
      const reason = new Error('stop now');
      controller.abort(reason);
      await expect(mapped.get()).rejects.toMatchObject({ name: 'AbortError', code: 'ERR_ABORTED', cause: reason });
    } finally {
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 60_000, 'the queue to drain');
      await fleet.stop();
    }
    expect(linesIn(log)).toBeLessThan(10);
  }, 120_000);

  it('terminate fails unfinished work with PoolClosedError and cancels the whole run', async () => {
    const config = await provisionForTest('terminate');
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-term-')), 'runs.log');
    const fleet = startFleet(config, { threads: 1, concurrency: 1, batchSize: 1 });
    const { context } = awsContext(config);
    const pool = new context.Pool(4);
    try {
      const mapped = pool.starmapAsync(awsLogged, slowItems(log, 10, 300), { chunksize: 1 });
      await waitFor(() => linesIn(log) > 0, 60_000, 'the first chunk to start');
      await pool.terminate();
      await expect(mapped.get()).rejects.toBeInstanceOf(PoolClosedError);
      await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 0, 60_000, 'the queue to drain');
    } finally {
      await fleet.stop();
    }
    expect(linesIn(log)).toBeLessThan(10);
  }, 120_000);
});

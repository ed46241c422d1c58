import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteError, type Context } from 'fanout';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { add, square } from '../fixtures/tasks.js';
import { awsFail, awsLogged } from '../fixtures/awsTasks.js';
import { awsContext, chunkRecords, provisionForTest, startFleet, type TestFleet } from './awsHarness.js';

/** A map of `items` with chunks of seven items, on a pool of its own. */
async function pool2Map(context: Context, items: number[]): Promise<number[]> {
  await using pool = new context.Pool(8);
  return pool.map(square, items, { chunksize: 7 });
}

describe('aws backend on the emulators: Pool', () => {
  let config: AwsConfig;
  let fleet: TestFleet;

  beforeAll(async () => {
    config = await provisionForTest('pool');
    fleet = startFleet(config);
    await fleet.ready;
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  it('maps 10,000 items with results in input order, each chunk recorded exactly once', async () => {
    const { context, counter } = awsContext(config);
    const pool = new context.Pool(8);
    const items = Array.from({ length: 10_000 }, (_, i) => i);
    const results = await pool.map(square, items);
    expect(results).toEqual(items.map((x) => x * x));
    pool.close();
    await pool.join();
    const stats = pool.stats();
    expect(stats.itemsCompleted).toBe(10_000);
    const records = [...(await chunkRecords(config)).values()];
    expect(records.every((record) => record.count === 1 && record.status === 'ok')).toBe(true);
    expect(records.length).toBeGreaterThanOrEqual(stats.chunksCompleted);
    // Again with many small chunks (1,429 messages): results arrive out of order, in many polls.
    expect(await pool2Map(context, items)).toEqual(items.map((x) => x * x));
    const requests = counter.snapshot().requests;
    expect(requests['SQS.SendMessageBatch']).toBeGreaterThan(0);
    expect(stats.requests?.['DynamoDB.Query']).toBeGreaterThan(0);
  }, 120_000);

  it('runs starmap, applyAsync, imap and imapUnordered through the queue', async () => {
    const { context } = awsContext(config);
    await using pool = new context.Pool(4);
    expect(
      await pool.starmap(add, [
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    ).toEqual([3, 7, 11]);
    const calls = [pool.applyAsync(square, [7]), pool.applyAsync(add, [2, 3]), pool.applyAsync(square, [9])];
    expect(await Promise.all(calls.map((call) => call.get()))).toEqual([49, 5, 81]);
    const ordered: number[] = [];
    for await (const y of pool.imap(square, [1, 2, 3, 4, 5], { chunksize: 2 })) ordered.push(y);
    expect(ordered).toEqual([1, 4, 9, 16, 25]);
    const unordered: number[] = [];
    for await (const y of pool.imapUnordered(square, [1, 2, 3, 4, 5])) unordered.push(y);
    expect(unordered.sort((a, b) => a - b)).toEqual([1, 4, 9, 16, 25]);
  }, 60_000);

  it('returns a task that throws as a RemoteError with the remote stack, not a retry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-aws-'));
    const log = join(dir, 'runs.log');
    const { context } = awsContext(config);
    await using pool = new context.Pool(2);
    const retriedBefore = fleet.processorStats().chunksRetried;
    const error = await pool.apply(awsFail, [3]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    const remote = error as RemoteError;
    expect(remote.remoteMessage).toBe('no good: 3');
    expect(remote.remoteProperties.code).toBe('E_NO_GOOD');
    expect(remote.remoteStack).toContain('awsTasks.ts');
    // A map whose item throws fails with that item's error; the other items ran once each.
    const mapError = await pool.map(awsFail, [5, 6], { chunksize: 2 }).catch((e: unknown) => e);
    expect((mapError as RemoteError).remoteMessage).toBe('no good: 5');
    expect(
      await pool.starmap(awsLogged, [
        [log, 1, 0],
        [log, 2, 0],
      ]),
    ).toEqual([2, 4]);
    expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual(['1', '2']);
    // Task errors are results: nothing was handed back for redelivery.
    expect(fleet.processorStats().chunksRetried).toBe(retriedBefore);
  }, 60_000);
});

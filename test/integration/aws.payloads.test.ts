import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { awsMakeText, awsMeasure } from '../fixtures/awsTasks.js';
import { awsContext, bucketKeys, chunkRecords, provisionForTest, startFleet, type TestFleet } from './awsHarness.js';

function checksum(text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) sum = (sum * 31 + text.charCodeAt(i)) >>> 0;
  return sum;
}

describe('aws backend on the emulators: payloads through S3', () => {
  let config: AwsConfig;
  let fleet: TestFleet;

  beforeAll(async () => {
    config = await provisionForTest('s3');
    fleet = startFleet(config);
  });

  afterAll(async () => {
    await fleet?.stop();
  });

  it('carries a 3 MB argument and a 3 MB result through the payload bucket', async () => {
    const { context, counter } = awsContext(config);
    await using pool = new context.Pool(2);
    const argument = 'fanout-'.repeat(450_000).slice(0, 3_000_000);
    expect(await pool.apply(awsMeasure, [argument])).toEqual({ length: 3_000_000, sum: checksum(argument) });
    const result = await pool.apply(awsMakeText, ['xyz', 3_000_000]);
    expect(result).toHaveLength(3_000_000);
    expect(result).toBe('xyz'.repeat(1_000_000));
    const keys = await bucketKeys(config);
    expect(keys.some((key) => key.includes('/args/'))).toBe(true);
    expect(keys.some((key) => key.includes('/results/'))).toBe(true);
    const requests = counter.snapshot().requests;
    expect(requests['S3.PutObject']).toBe(1);
    expect(requests['S3.GetObject']).toBe(1);
  }, 60_000);

  it('uploads a 12 MB argument in parts (over the emulator’s single-request limit)', async () => {
    const { context, counter } = awsContext(config);
    await using pool = new context.Pool(2);
    const argument = 'abcdefghij'.repeat(1_200_000);
    expect(await pool.apply(awsMeasure, [argument])).toEqual({ length: 12_000_000, sum: checksum(argument) });
    expect(counter.snapshot().requests['S3.UploadPart']).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('splits a chunk over 60 KB into messages of one 64 KB billing unit each, keeping items whole', async () => {
    const fresh = await provisionForTest('split');
    const splitFleet = startFleet(fresh);
    try {
      const { context } = awsContext(fresh);
      await using pool = new context.Pool(2);
      // One pool chunk of 40 items of 5,000 characters (about 200 KB): four messages of at most 60 KB.
      const items = Array.from({ length: 40 }, (_, i) => String(i).padEnd(5000, '.'));
      const results = await pool.map(awsMeasure, items, { chunksize: 40 });
      expect(results).toEqual(items.map((text) => ({ length: 5000, sum: checksum(text) })));
      expect(pool.stats().chunksCompleted).toBe(1);
      const records = [...(await chunkRecords(fresh)).values()];
      expect(records).toHaveLength(4);
      expect((await bucketKeys(fresh)).filter((key) => key.includes('/args/'))).toEqual([]);
    } finally {
      await splitFleet.stop();
    }
  }, 60_000);

  it('keeps map results in order when some items travel through S3 and others inline', async () => {
    const { context } = awsContext(config);
    await using pool = new context.Pool(4);
    const sizes = [10, 400_000, 20, 300_000, 5];
    const results = await pool.starmap(
      awsMakeText,
      sizes.map((size) => ['ab', size] as [string, number]),
      { chunksize: 1 },
    );
    expect(results.map((text) => text.length)).toEqual(sizes);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from '../../../lib/api/Pool.js';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { estimateJob, simulatePolls, splitOverhead } from '../../../lib/report/JobEstimator.js';
import { add, sleep, square } from '../../fixtures/tasks.js';

describe('the result polls the estimate assumes', () => {
  it('follows the pool’s back-off: 15 ms, then 10 ms doubling after each poll that finds nothing, 10 ms after a find', () => {
    // Polls at 15, 35, 75, 155 (finds the one at 100).
    expect(simulatePolls([100])).toBe(4);
    // Then 165, 185 (finds 170), 195, 215 (finds 200).
    expect(simulatePolls([100, 170, 200])).toBe(8);
    // Capped at 500 ms: 15, 35, 75, 155, 315, 635, 1135, 1635, 2135 (finds 2000).
    expect(simulatePolls([2000])).toBe(9);
    expect(simulatePolls([])).toBe(0);
  });
});

describe('the sample runs’ overhead, split into a part per chunk and a part per item', () => {
  const runs = (pairs: Array<[number, number]>) => pairs.map(([chunksize, overheadMs]) => ({ chunksize, overheadMs }));

  it('recovers a clear growth with the items: intercept per chunk, slope per item', () => {
    const split = splitOverhead(
      runs([
        [50, 7],
        [100, 12],
        [200, 22],
        [400, 42],
      ]),
    );
    expect(split.perChunkMs).toBeCloseTo(2, 6);
    expect(split.itemOverheadMs).toBeCloseTo(0.1, 6);
  });

  it('keeps all of it per chunk when the growth is within the runs’ noise, or falling, or the runs had one size', () => {
    expect(
      splitOverhead(
        runs([
          [8, 19],
          [16, 14],
          [25, 21],
          [8, 15],
          [25, 18],
        ]),
      ),
    ).toEqual({ perChunkMs: expect.closeTo(17.4, 6), itemOverheadMs: 0 });
    expect(
      splitOverhead(
        runs([
          [100, 30],
          [200, 20],
        ]),
      ),
    ).toEqual({ perChunkMs: 25, itemOverheadMs: 0 });
    expect(splitOverhead(runs([[100, 30]]))).toEqual({ perChunkMs: 30, itemOverheadMs: 0 });
  });

  it('fits through the origin when the line would cross below it: all of the overhead grows with the items', () => {
    const split = splitOverhead(
      runs([
        [100, 1],
        [200, 10],
        [400, 30],
      ]),
    );
    expect(split.perChunkMs).toBe(0);
    expect(split.itemOverheadMs).toBeCloseTo((100 * 1 + 200 * 10 + 400 * 30) / (100 ** 2 + 200 ** 2 + 400 ** 2), 9);
  });
});

describe('estimateJob on a local pool', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool(2);
  });
  afterAll(async () => {
    await pool.terminate();
  });

  it('runs a sample and predicts positive, finite wall time and cost, chunked as pool.map chunks', async () => {
    const items = Array.from({ length: 400 }, () => 5);
    const estimate = await estimateJob(pool, sleep, items, { sampleItems: 8 });
    expect(estimate.backend).toBe('local');
    expect(estimate.items).toBe(400);
    // pool.map's default: ⌈400 / (4 × 2)⌉ = 50 items a chunk, 8 chunks, on 2 lanes: 4 waves.
    expect(estimate.chunksize).toBe(50);
    expect(estimate.chunks).toBe(8);
    expect(estimate.messages).toBe(8);
    expect(estimate.lanes).toBe(2);
    expect(estimate.waves).toBe(4);
    expect(estimate.sampleItems).toBe(8);
    expect(estimate.sampleChunks).toBe(4);
    // A task that sleeps 5 ms: the workers' clocks say so (timers may fire a little early).
    expect(estimate.perItemMs).toBeGreaterThan(3);
    for (const value of [estimate.predictedWallMs, estimate.latencyMs, estimate.perChunkMs, estimate.sampleWallMs]) {
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
    }
    expect(estimate.predictedWallMs).toBeGreaterThan(estimate.waves * 50 * 3);
    const cost = estimate.predictedCost;
    expect(cost.total.point).toBeGreaterThan(0);
    expect(Number.isFinite(cost.total.high)).toBe(true);
    expect(cost.total.low).toBeLessThanOrEqual(cost.total.point);
    expect(cost.total.point).toBeLessThanOrEqual(cost.total.high);
    expect(cost.lines.find((l) => l.kind === 'SendMessageBatch')?.requests.point).toBe(1);
    expect(cost.lines.find((l) => l.kind === 'PutItem' && l.side === 'workers')?.requests.point).toBe(8);
    expect(cost.lambda.gbSeconds.point).toBeGreaterThan(0);
  }, 60_000);

  it('is pool.estimate: the same chunking and prediction from the pool itself', async () => {
    const estimate = await pool.estimate(
      sleep,
      Array.from({ length: 400 }, () => 5),
      { sampleItems: 8 },
    );
    expect(estimate).toMatchObject({ backend: 'local', items: 400, chunksize: 50, chunks: 8, lanes: 2, sampleItems: 8 });
    expect(estimate.predictedWallMs).toBeGreaterThan(0);
    expect(estimate.predictedCost.total.point).toBeGreaterThan(0);
  }, 60_000);

  it('scales with the items: ten times the items, more waves, more time, more cost', async () => {
    const small = await estimateJob(
      pool,
      square,
      Array.from({ length: 1000 }, (_, i) => i),
      { chunksize: 10, sampleItems: 8 },
    );
    const large = await estimateJob(
      pool,
      square,
      Array.from({ length: 10_000 }, (_, i) => i),
      { chunksize: 10, sampleItems: 8 },
    );
    expect(small.chunks).toBe(100);
    expect(large.chunks).toBe(1000);
    expect(large.waves).toBe(10 * small.waves);
    // Each prediction runs its waves one after another, a chunk of ten items a lane each (the two
    // samples' own times differ with the machine's load, so they are not compared).
    expect(large.predictedWallMs).toBeGreaterThanOrEqual(large.waves * 10 * large.perItemMs);
    expect(small.predictedWallMs).toBeGreaterThanOrEqual(small.waves * 10 * small.perItemMs);
    expect(large.predictedCost.total.point).toBeGreaterThan(5 * small.predictedCost.total.point);
    const puts = (e: typeof small) =>
      e.predictedCost.lines.find((l) => l.kind === 'PutItem' && l.side === 'workers')!.requests.point;
    expect(puts(large)).toBe(10 * puts(small));
  }, 60_000);

  it('takes starmap items and splits big items into messages of 60 KB at most, their arguments through S3 when over 192 KiB', async () => {
    const starred = await estimateJob(
      pool,
      add,
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { starmap: true, chunksize: 3 },
    );
    expect(starred.sampleItems).toBe(3);
    expect(starred.chunks).toBe(1);
    const big = 'x'.repeat(200 * 1024);
    const estimate = await estimateJob(pool, square, [big, big, big, big] as never[], { chunksize: 4, sampleItems: 2 });
    // Each item alone in its message (over 60 KB), and over 192 KiB: four S3 objects each way.
    expect(estimate.messages).toBe(4);
    const line = (kind: string, side: string) => estimate.predictedCost.lines.find((l) => l.kind === kind && l.side === side);
    expect(line('PutObject', 'submitter')?.requests.point).toBe(4);
    expect(line('GetObject', 'workers')?.requests.point).toBe(4);
  }, 60_000);

  it('refuses bad input with errors naming the option', async () => {
    await expect(estimateJob(pool, square, [])).rejects.toThrow(InvalidArgumentError);
    await expect(estimateJob(pool, square, 'abc' as never)).rejects.toThrow(/items/);
    await expect(estimateJob(pool, square, [1], { sampleItems: 0 })).rejects.toThrow(/sampleItems/);
    await expect(estimateJob(pool, square, [1], { chunksize: 1.5 })).rejects.toThrow(/chunksize/);
    await expect(estimateJob(pool, square, [1], { memoryMb: -1 })).rejects.toThrow(/memoryMb/);
  });
});

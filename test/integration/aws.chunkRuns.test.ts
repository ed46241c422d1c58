import { describe, expect, it } from 'vitest';
import type { AwsPoolEngine } from '../../lib/backends/aws/AwsPoolEngine.js';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import { ResultTable } from '../../lib/backends/aws/ResultTable.js';
import { ChunkTimeline } from '../../lib/report/ChunkTimeline.js';
import { awsLogged } from '../fixtures/awsTasks.js';
import { awsContext, provisionForTest, startFleet } from './awsHarness.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// What a job's timeline is drawn from: each chunk's record says where and when it ran. The
// real worker handler (a fleet in this process) writes them with the results; the table is
// read back with the real SDK, and drawn with ChunkTimeline.
describe('chunk records carry how each chunk ran (emulators, a worker fleet)', () => {
  it('worker, thread, start and end, attempts, cold start, task time and items, for every chunk; a timeline draws them', async () => {
    const config = await provisionForTest('chunk-runs');
    const fleet = startFleet(config, { threads: 2, concurrency: 2, batchSize: 1 });
    const clients = new AwsClients(config);
    try {
      await fleet.ready;
      const { context } = awsContext(config);
      await using pool = new context.Pool(4);
      const log = join(mkdtempSync(join(tmpdir(), 'fanout-runs-')), 'log');
      const items = Array.from({ length: 12 }, (_, i) => [log, i, 20] as [string, number, number]);
      const before = Date.now();
      expect(await pool.starmap(awsLogged, items, { chunksize: 2 })).toEqual(items.map(([, x]) => x * 2));
      const after = Date.now();
      const run = (pool as unknown as { engine: AwsPoolEngine }).engine.run;
      const runs = await new ResultTable(clients.dynamodb, config.table).chunkRuns(run);
      expect(runs.map((record) => record.chunk)).toEqual([0, 1, 2, 3, 4, 5]);
      for (const record of runs) {
        expect(record.status).toBe('ok');
        expect(record.worker).toMatch(/^worker-[0-9a-f]{8}$/);
        expect([1, 2]).toContain(record.thread);
        expect(record.startMs).toBeGreaterThanOrEqual(before);
        expect(record.endMs).toBeGreaterThanOrEqual(record.startMs);
        expect(record.endMs).toBeLessThanOrEqual(after);
        expect(record.attempts).toBe(1);
        expect(record.items).toBe(2);
        // Two items of a task that sleeps 20 ms each (a timer may fire a little early on the thread's clock).
        expect(record.taskMs).toBeGreaterThanOrEqual(36);
        expect(record.endMs - record.startMs).toBeGreaterThanOrEqual(Math.floor(record.taskMs) - 1);
      }
      // At most two workers (the fleet's environments) with two threads each; each thread's first chunk is its cold one.
      const lanes = new Set(runs.map((record) => `${record.worker}#${record.thread}`));
      expect(new Set(runs.map((record) => record.worker)).size).toBeLessThanOrEqual(2);
      expect(runs.filter((record) => record.coldStart).length).toBe(lanes.size);
      const timeline = new ChunkTimeline({ jobId: run, task: awsLogged.name, chunks: runs });
      expect(timeline.summary.chunks).toBe(6);
      expect(timeline.summary.items).toBe(12);
      expect(timeline.summary.coldStarts).toBe(lanes.size);
      expect(timeline.lanes.length).toBe(lanes.size);
      expect(timeline.toHtml()).toContain(`data-chunk="5"`);
    } finally {
      clients.destroy();
      await fleet.stop();
    }
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AwsPoolEngine } from '../../lib/backends/aws/AwsPoolEngine.js';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import { ResultTable } from '../../lib/backends/aws/ResultTable.js';
import { awsSlowOnce } from '../fixtures/awsTasks.js';
import { awsContext, provisionForTest, startFleet } from './awsHarness.js';

// A straggler (one chunk whose first run sleeps 8 s) is re-run: the copy, fast, is recorded
// first and is the result; the original's run, when it ends, is recorded as a duplicate.
describe('stragglers are re-run (speculate; emulators, a worker fleet)', () => {
  it('the copy wins, the pool counts it, and the losing run is recorded with its cost', async () => {
    const config = await provisionForTest('stragglers');
    const fleet = startFleet(config, { threads: 3, concurrency: 3, batchSize: 1 });
    const clients = new AwsClients(config);
    try {
      await fleet.ready;
      const { context } = awsContext(config);
      await using pool = new context.Pool({ processes: 4, speculate: { after: 2, minDone: 0.5, minMs: 300 } });
      const dir = mkdtempSync(join(tmpdir(), 'fanout-strag-'));
      const items = Array.from({ length: 8 }, (_, x) => [dir, x, 0, 8_000] as [string, number, number, number]);
      expect(await pool.starmap(awsSlowOnce, items, { chunksize: 1 })).toEqual(items.map(([, x]) => x * 2));
      expect(pool.stats().speculation).toEqual({ copies: 1, copiesWon: 1 });
      const run = (pool as unknown as { engine: AwsPoolEngine }).engine.run;
      const table = new ResultTable(clients.dynamodb, config.table);
      const runs = await table.chunkRuns(run);
      expect(runs.filter((record) => record.copy).map((record) => record.chunk)).toEqual([0]);
      // The original ends 8 s after it began, and records what it cost beside the winner.
      let duplicates: Awaited<ReturnType<ResultTable['duplicateRuns']>> = [];
      for (let waited = 0; duplicates.length === 0 && waited < 40_000; waited += 500) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        duplicates = await table.duplicateRuns(run, 0, 7);
      }
      expect(duplicates.map((duplicate) => duplicate.chunk)).toEqual([0]);
      expect(duplicates[0]!.copy).toBeUndefined();
      expect(duplicates[0]!.taskMs).toBeGreaterThanOrEqual(7_000);
    } finally {
      clients.destroy();
      await fleet.stop();
    }
  }, 120_000);

  it('refuses a bad speculate option with the option and what is allowed', async () => {
    const config = await provisionForTest('stragglers-options');
    const { context } = awsContext(config);
    expect(() => new context.Pool({ speculate: { after: 0.5 } })).toThrow(/speculate: after must be a number ≥ 1/);
    expect(() => new context.Pool({ speculate: { minDone: 0 } })).toThrow(/minDone must be a share/);
    expect(() => new context.Pool({ speculate: { minMs: -1 } })).toThrow(/minMs must be a whole number ≥ 0/);
    expect(() => new context.Pool({ speculate: { later: 1 } as never })).toThrow(/later/);
    expect(() => new context.Pool({ speculate: 'yes' as never })).toThrow(/true, false or/);
  });
});

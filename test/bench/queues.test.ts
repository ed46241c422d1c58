import { describe, expect, it } from 'vitest';
import { runQueueBench } from '../../bench/queues.js';

describe('bench/queues.ts', () => {
  it('measures both peers over the same items and returns printable rows (no timing asserted)', async () => {
    const rows = await runQueueBench({ items: 2000, rounds: 1 });
    expect(rows.map((row) => row.name)).toEqual(['raw MessagePort, worker → worker', 'fanout Queue, process → process']);
    for (const row of rows) {
      expect(row.items).toBe(2000);
      expect(row.itemsPerSecond).toBeGreaterThan(0);
      expect(row.ratio).toBeGreaterThan(0);
    }
    expect(rows[0]!.ratio).toBe(1);
  }, 120_000);
});

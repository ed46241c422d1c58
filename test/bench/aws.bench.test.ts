import { describe, expect, it } from 'vitest';
import { runAwsBench } from '../../bench/aws.js';
import { isBenchRow } from '../../bench/report.js';

// Smoke test only: the aws section runs end to end on its own emulators and reports a number in
// every row; it never checks how fast.
describe('bench section aws', () => {
  it('measures the floor, the end-to-end rate, requests and dollars, with numbers in every row', async () => {
    const tables = await runAwsBench(
      { quick: true, full: false, reps: 1, cases: [] },
      { tinyItems: 2000, bigItems: 2, bigItemBytes: 300 * 1024, singleItemChunks: 30 },
    );
    expect(tables).toHaveLength(3);
    const rows = tables.flatMap((table) => table.rows);
    for (const row of rows) {
      expect(isBenchRow(row), JSON.stringify(row)).toBe(true);
      expect(Number.isFinite(row.ours) && row.ours > 0, `${row.metric}: ours`).toBe(true);
    }
    const vsFloor = rows.find((row) => row.metric === 'map, 1 item per chunk')!;
    expect(vsFloor.peer).toBeGreaterThan(0);
    expect(typeof vsFloor.met).toBe('boolean');
    expect(rows.filter((row) => row.metric.endsWith('$ per million items'))).toHaveLength(2);
    expect(rows.filter((row) => row.metric.endsWith('AWS requests per chunk message'))).toHaveLength(3);
  }, 180_000);
});

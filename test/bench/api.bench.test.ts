import { describe, expect, it } from 'vitest';
import { runApiBench } from '../../bench/api.js';
import { isBenchRow } from '../../bench/report.js';

// Smoke test only: the api section runs end to end on its own emulators (a fleet, the API behind
// the Function URL adapter, signed requests), checks every result, and reports a number and a
// peer in every row; it never checks how fast.
describe('bench section api', () => {
  it('times a 1,000-item job over signed HTTP against the same map through a Pool, with numbers in every row', async () => {
    const tables = await runApiBench({ quick: true, full: false, reps: 1, cases: [] });
    expect(tables).toHaveLength(1);
    for (const row of tables[0]!.rows) {
      expect(isBenchRow(row), JSON.stringify(row)).toBe(true);
      expect(Number.isFinite(row.ours) && row.ours > 0, `${row.metric}: ours`).toBe(true);
      expect(row.peer, `${row.metric}: peer`).toBeGreaterThan(0);
    }
    expect(tables[0]!.rows.filter((row) => typeof row.met === 'boolean')).toHaveLength(2);
  }, 180_000);
});

import { describe, expect, it } from 'vitest';
import { runQueuesBench } from '../../bench/queues.js';

describe('bench/queues.ts', () => {
  it('measures the Queue and the raw MessagePort peer over the same items, in the harness format (no timing asserted)', async () => {
    const [table] = await runQueuesBench({ quick: true, full: false, reps: 1, cases: [] });
    expect(table!.rows).toHaveLength(1);
    const [row] = table!.rows;
    expect(row!.ours).toBeGreaterThan(0);
    expect(row!.peer).toBeGreaterThan(0);
    expect(row!.ratio).toBeCloseTo(row!.ours / row!.peer!);
    expect(typeof row!.met).toBe('boolean');
  }, 120_000);
});

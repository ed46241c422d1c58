import { describe, expect, it } from 'vitest';
import { runAwsSyncBench, type AwsSyncRow } from '../../bench/awsSync.js';
import { isBenchRow } from '../../bench/report.js';

const OPERATIONS = [
  'bare UpdateItem (floor)',
  'bare PutItem',
  "bare UpdateItem, Value.add's expression",
  "bare UpdateItem, the default lock's add expression",
  'Lock acquire+release',
  'Lock acquire (alone)',
  'Value.add (lock: false)',
  'Value.add (default RLock)',
  'Value.add (a Lock given in its options)',
  'Semaphore acquire+release',
  'Event set+isSet',
  'Queue put+get, one at a time',
  'Queue put+get, from a backlog',
  'Pipe send+recv',
  'Barrier(2) round, both parties',
];

// Smoke test only: the awsSync section runs on its own emulators and reports every operation with
// its requests, dollars and latencies; it never checks how fast.
describe('bench section awsSync', () => {
  it('reports every primitive with requests > 0, dollars, p50/p99 and the ratio to the floor, and the targets', async () => {
    const [summary, targets] = await runAwsSyncBench({ quick: true, full: false, reps: 1, cases: [] }, { rounds: 3, backlog: 3 });
    const rows = summary!.rows as unknown as AwsSyncRow[];
    expect(rows.map((row) => row.operation)).toEqual(OPERATIONS);
    for (const row of rows) {
      for (const column of ['requests/op', 'write units/op', '$/M ops', 'p50 ms', 'p99 ms', 'p50 / floor p50'] as const) {
        expect(Number.isFinite(row[column]) && row[column] > 0, `${row.operation}: ${column} = ${row[column]}`).toBe(true);
      }
      expect(row['p99 ms']).toBeGreaterThanOrEqual(row['p50 ms']);
    }
    expect(rows[0]!['p50 / floor p50']).toBe(1);

    const targeted = targets!.rows;
    expect(targeted.map((row) => row.metric)).toEqual([
      'Lock acquire+release: requests/op',
      'Value.add (lock: false): requests/op',
      'Value.add (default RLock): requests/op',
      'Queue put+get, one at a time: requests/op',
      'Queue put+get, from a backlog: requests/op',
      'Lock acquire+release: p50',
      'Value.add (lock: false): p50',
      'Value.add (default RLock): p50',
      'Queue put+get, one at a time: p50',
      'Queue put+get, from a backlog: p50',
    ]);
    for (const row of targeted) {
      expect(isBenchRow(row), JSON.stringify(row)).toBe(true);
      expect(row.ours, row.metric).toBeGreaterThan(0);
      expect(typeof row.met, row.metric).toBe('boolean');
    }
  }, 180_000);
});

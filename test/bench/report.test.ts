import { describe, expect, it } from 'vitest';
import { benchRow, formatValue, renderMarkdown, renderText, toTextTables } from '../../bench/report.js';
import { median, percentile, rounds } from '../../bench/stats.js';

describe('benchRow', () => {
  it('computes ours / peer and checks a ratio target', () => {
    const row = benchRow({ metric: 'map', unit: 'items/s', ours: 5e6, peer: 2e6, target: { of: 'ratio', atLeast: 2 } });
    expect(row.ratio).toBe(2.5);
    expect(row.met).toBe(true);
    expect(benchRow({ metric: 'map', unit: 'items/s', ours: 3e6, peer: 2e6, target: { of: 'ratio', atLeast: 2 } }).met).toBe(
      false,
    );
  });

  it('checks a bound on our own value, and leaves met out without a target', () => {
    expect(benchRow({ metric: 'rss', unit: 'MB', ours: 201, target: { of: 'ours', atMost: 200 } }).met).toBe(false);
    expect(benchRow({ metric: 'rss', unit: 'MB', ours: 150, target: { of: 'ours', atMost: 200 } }).met).toBe(true);
    const row = benchRow({ metric: 'rate', unit: 'items/s', ours: 1 });
    expect(row).not.toHaveProperty('met');
    expect(row).not.toHaveProperty('ratio');
  });

  it('does not count a ratio target as met when there is no peer', () => {
    expect(benchRow({ metric: 'x', unit: 'µs', ours: 1, target: { of: 'ratio', atMost: 1 } }).met).toBe(false);
  });
});

describe('toTextTables', () => {
  const rows = [
    benchRow({ metric: 'p50', unit: 'µs', ours: 30, peer: 40, peerName: 'piscina', target: { of: 'ratio', atMost: 1 } }),
  ];

  it('prints bench rows as metric, ours, peer, ratio, target, met?', () => {
    const [table] = toTextTables('pool', [{ title: 'latency', rows, notes: ['a note'] }]);
    expect(table!.headers).toEqual(['metric', 'ours', 'peer', 'ratio', 'target', 'met?']);
    expect(table!.cells).toEqual([['p50', '30 µs', '40 µs (piscina)', '0.75×', '≤ 1×', 'yes']]);
    expect(renderText(table!)).toContain('* a note');
    expect(renderMarkdown(table!)).toContain('| p50 | 30 µs | 40 µs (piscina) | 0.75× | ≤ 1× | yes |');
  });

  it('titles a bare array of rows after the section', () => {
    expect(toTextTables('sync', rows)[0]!.title).toBe('sync');
  });

  it('prints any other rows as a generic table, one column per key', () => {
    const [table] = toTextTables('queues', [
      { op: 'put', perSecond: 12345.6 },
      { op: 'get', note: 'slow' },
    ]);
    expect(table!.headers).toEqual(['op', 'perSecond', 'note']);
    expect(table!.cells).toEqual([
      ['put', '12346', ''],
      ['get', '', 'slow'],
    ]);
  });

  it('names the section when it returned something unprintable', () => {
    expect(() => toTextTables('aws', 42)).toThrow("bench section 'aws' returned number");
  });
});

describe('formatting and statistics', () => {
  it('shortens large rates and keeps three significant digits', () => {
    expect(formatValue(3_660_000, 'items/s')).toBe('3.66M items/s');
    expect(formatValue(24_612, 'tasks/s')).toBe('24.6k tasks/s');
    expect(formatValue(0.4667, '×')).toBe('0.467×');
    expect(formatValue(94.23, 'µs')).toBe('94.2 µs');
  });

  it('takes medians and nearest-rank percentiles', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(99);
    expect(() => median([])).toThrow(RangeError);
  });

  it('runs a warm-up round it does not count, then the contestants in turn', async () => {
    const order: string[] = [];
    let calls = 0;
    const samples = await rounds(2, {
      a: async () => (order.push('a'), ++calls),
      b: async () => (order.push('b'), ++calls),
    });
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(samples).toEqual({ a: [3, 5], b: [4, 6] });
  });
});

import { describe, expect, it } from 'vitest';
import { Pool } from 'fanout';
import { countPrimes, countPrimesByTrialDivision, countPrimesInRange } from '../../examples/primeTasks.js';

describe('countPrimesInRange (the segmented sieve of the main job)', () => {
  it('gives the known π(10^k)', () => {
    const known = [4, 25, 168, 1_229, 9_592, 78_498, 664_579];
    known.forEach((count, k) => expect(countPrimesInRange({ start: 0, end: 10 ** (k + 1) })).toBe(count));
  });

  it('handles the edges: 0, 1, 2, 3, empty ranges', () => {
    expect(countPrimesInRange({ start: 0, end: 0 })).toBe(0);
    expect(countPrimesInRange({ start: 0, end: 2 })).toBe(0);
    expect(countPrimesInRange({ start: 0, end: 3 })).toBe(1);
    expect(countPrimesInRange({ start: 2, end: 3 })).toBe(1);
    expect(countPrimesInRange({ start: 3, end: 4 })).toBe(1);
    expect(countPrimesInRange({ start: 1, end: 2 })).toBe(0);
    expect(countPrimesInRange({ start: 4, end: 5 })).toBe(0);
    expect(countPrimesInRange({ start: 97, end: 98 })).toBe(1);
    expect(countPrimesInRange({ start: 98, end: 98 })).toBe(0);
  });

  it('agrees with trial division on many ranges, including ones that span sieve blocks', () => {
    let seed = 12345;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 200; i++) {
      const start = random(300_000);
      const end = start + random(i % 10 === 0 ? 140_000 : 3_000);
      expect(countPrimesInRange({ start, end }), `[${start}, ${end})`).toBe(countPrimesByTrialDivision({ start, end }));
    }
  });

  it('adds up over adjacent ranges, as the main job relies on', () => {
    let total = 0;
    for (let start = 0; start < 1_000_000; start += 15_625) total += countPrimesInRange({ start, end: start + 15_625 });
    expect(total).toBe(78_498);
  });

  it('is exact far from zero (checked against trial division near 10^10)', () => {
    const range = { start: 10_000_000_000 - 2_000, end: 10_000_000_000 };
    expect(countPrimesInRange(range)).toBe(countPrimesByTrialDivision(range));
  });

  it('refuses ranges it cannot count', () => {
    expect(() => countPrimesInRange({ start: 5, end: 4 })).toThrow(RangeError);
    expect(() => countPrimesInRange({ start: -1, end: 4 })).toThrow(/0 ≤ start ≤ end/);
    expect(() => countPrimesInRange({ start: 0, end: 2 ** 60 })).toThrow(RangeError);
  });
});

describe('countPrimes (the task)', () => {
  it('runs in a worker and returns the range with its count', async () => {
    await using pool = new Pool(1);
    expect(await pool.apply(countPrimes, [{ start: 100, end: 200 }])).toEqual({ start: 100, end: 200, count: 21 });
  });
});

// The CPU-bound work of the benchmarks, in plain JavaScript so that fanout's task
// (bench/tasks.ts) and piscina's worker (bench/piscinaWorker.mjs) run exactly the same code.
// bench/python/pool_bench.py implements the same algorithm for Python.

/** Numbers per item: each item counts the primes in its own range of this width. */
export const PRIME_RANGE_WIDTH = 2000;
/** Where the ranges start: far from zero, so that every range costs about the same. */
export const PRIME_RANGE_BASE = 10_000_000;

/**
 * Counts the primes in [BASE + item × WIDTH, BASE + (item + 1) × WIDTH) by trial division
 * (about 0.4 ms per item on the benchmark machine).
 */
export function countPrimesInRange(item) {
  const start = PRIME_RANGE_BASE + item * PRIME_RANGE_WIDTH;
  const end = start + PRIME_RANGE_WIDTH;
  let count = 0;
  for (let n = start | 1; n < end; n += 2) {
    let prime = true;
    for (let d = 3; d * d <= n; d += 2) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

/**
 * fanout's tasks for the benchmarks. Tasks live in a module of their own (never the entry
 * script): each worker imports this module to find them. bench/piscinaWorker.mjs and
 * bench/python/pool_bench.py implement the same work for the peers.
 */
import { task } from 'fanout';

/** Numbers per CPU-bound item: each item counts the primes in its own range of this width. */
export const PRIME_RANGE_WIDTH = 2000;
/** Where the ranges start: far from zero, so that every range costs about the same. */
export const PRIME_RANGE_BASE = 10_000_000;

/**
 * The tiny task: as cheap as a task can be, so that only the pool's overhead is measured.
 *
 * @example
 * ```ts
 * await pool.map(addOne, [1, 2, 3]); // [2, 3, 4]
 * ```
 */
export const addOne = task('bench.addOne', (x: number) => x + 1);

/**
 * The CPU-bound task: counts the primes in `[BASE + item × WIDTH, BASE + (item + 1) × WIDTH)` by
 * trial division (about 0.4 ms per item on the benchmark machine).
 *
 * @example
 * ```ts
 * await pool.map(countPrimes, [0, 1, 2]); // the primes in three ranges of 2000 numbers
 * ```
 */
export const countPrimes = task('bench.countPrimes', (item: number) => {
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
});

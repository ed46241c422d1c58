/**
 * fanout's tasks for the benchmarks. Tasks live in a module of their own (never the entry
 * script): each worker imports this module to find them. bench/piscinaWorker.mjs and
 * bench/python/pool_bench.py run the same work for the peers.
 */
import { task } from 'fanout';
import { countPrimesInRange } from './primes.mjs';

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
 * The CPU-bound task: counts the primes in the item's range of 2000 numbers by trial
 * division (about the same cost for every item).
 *
 * @example
 * ```ts
 * await pool.map(countPrimes, [0, 1, 2]); // the primes in three ranges
 * ```
 */
export const countPrimes = task('bench.countPrimes', (item: number) => countPrimesInRange(item));

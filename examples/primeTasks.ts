import { task } from 'fanout';

/** A half-open range of whole numbers, `[start, end)`. */
export interface NumberRange {
  start: number;
  end: number;
}

/** Odd numbers per sieve block: 32 KiB of flags, so a block stays in the CPU's L1/L2 cache. */
const BLOCK_ODDS = 32 * 1024;

let basePrimes = new Uint32Array(0);
let basePrimesLimit = 1;

/**
 * The odd primes up to `limit`, computed once per worker and grown when a later range needs
 * more (every range of one job needs the primes up to √end, so this is the worker's only state).
 */
function oddPrimesUpTo(limit: number): Uint32Array {
  if (limit <= basePrimesLimit) return basePrimes;
  const composite = new Uint8Array(limit + 1);
  const found: number[] = [];
  for (let n = 3; n <= limit; n += 2) {
    if (composite[n]) continue;
    found.push(n);
    for (let multiple = n * n; multiple <= limit; multiple += 2 * n) composite[multiple] = 1;
  }
  basePrimes = Uint32Array.from(found);
  basePrimesLimit = limit;
  return basePrimes;
}

/**
 * Counts the primes in `[start, end)` with a segmented sieve of Eratosthenes over odd numbers:
 * each block of the range is sieved by the odd primes up to √end. Exact for `end` up to 2^53.
 *
 * @example
 * ```ts
 * countPrimesInRange({ start: 0, end: 100 }); // 25
 * ```
 */
export function countPrimesInRange(range: NumberRange): number {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`countPrimes: expected 0 ≤ start ≤ end (safe integers); got [${start}, ${end})`);
  }
  let count = start <= 2 && end > 2 ? 1 : 0;
  // The first odd number ≥ max(start, 3).
  let low = Math.max(start, 3);
  if (low % 2 === 0) low += 1;
  if (low >= end) return count;
  const primes = oddPrimesUpTo(Math.floor(Math.sqrt(end - 1)));
  const flags = new Uint8Array(BLOCK_ODDS);
  for (let blockLow = low; blockLow < end; blockLow += 2 * BLOCK_ODDS) {
    // Flag i stands for the odd number blockLow + 2i.
    const odds = Math.min(BLOCK_ODDS, Math.ceil((end - blockLow) / 2));
    const blockHigh = blockLow + 2 * (odds - 1);
    flags.fill(0, 0, odds);
    for (let k = 0; k < primes.length; k++) {
      const p = primes[k]!;
      const square = p * p;
      if (square > blockHigh) break;
      // The first odd multiple of p that is ≥ blockLow and ≥ p², as a flag index.
      let first = square >= blockLow ? square : Math.ceil(blockLow / p) * p;
      if (first % 2 === 0) first += p;
      for (let i = (first - blockLow) / 2; i < odds; i += p) flags[i] = 1;
    }
    for (let i = 0; i < odds; i++) if (flags[i] === 0) count++;
  }
  // 1 is never counted: low starts at 3.
  return count;
}

/** A range and the number of primes in it. */
export interface RangeCount extends NumberRange {
  count: number;
}

/**
 * The fan-out task of the main job: the number of primes in one range. It returns the range
 * too, because `imapUnordered` yields results in completion order, and the job re-checks some.
 *
 * @example
 * ```ts
 * await pool.apply(countPrimes, [{ start: 0, end: 100 }]); // { start: 0, end: 100, count: 25 }
 * ```
 */
export const countPrimes = task('primes.countPrimes', (range: NumberRange): RangeCount => ({
  start: range.start,
  end: range.end,
  count: countPrimesInRange(range),
}));

/**
 * Counts the primes in `[start, end)` by trial division: slow, but independent of the sieve,
 * so the main job uses it to check a sample range.
 *
 * @example
 * ```ts
 * countPrimesByTrialDivision({ start: 0, end: 100 }); // 25
 * ```
 */
export function countPrimesByTrialDivision(range: NumberRange): number {
  let count = 0;
  for (let n = Math.max(range.start, 2); n < range.end; n++) {
    let prime = n === 2 || n % 2 === 1;
    for (let d = 3; prime && d * d <= n; d += 2) if (n % d === 0) prime = false;
    if (prime) count++;
  }
  return count;
}

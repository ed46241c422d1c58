/** Numbers per item: each item counts the primes in its own range of this width. */
export declare const PRIME_RANGE_WIDTH: number;
/** Where the ranges start: far from zero, so that every range costs about the same. */
export declare const PRIME_RANGE_BASE: number;
/** Counts the primes in the item's range by trial division (the CPU-bound benchmark work). */
export declare function countPrimesInRange(item: number): number;

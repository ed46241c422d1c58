/** Small statistics and timing helpers shared by the benchmark sections. */

/**
 * The median of some numbers (the mean of the middle two for an even count).
 *
 * @example
 * ```ts
 * median([3, 1, 2]); // 2
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The `p`-th percentile (0–100) of some numbers, nearest-rank.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/**
 * Runs every contestant once as a warm-up (not counted), then `reps` rounds in which each
 * contestant runs once, in turn. Interleaving puts every side under the same load drift on a
 * busy machine. Returns, per contestant, what `run` resolved to in each counted round.
 *
 * @example
 * ```ts
 * const samples = await rounds(5, { ours: () => time(() => pool.map(addOne, items)) });
 * median(samples.ours); // ms
 * ```
 */
export async function rounds<K extends string, T>(
  reps: number,
  contestants: Record<K, () => Promise<T>>,
): Promise<Record<K, T[]>> {
  const names = Object.keys(contestants) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round <= reps; round++) {
    for (const name of names) {
      (globalThis as { gc?: () => void }).gc?.();
      const sample = await contestants[name]();
      if (round > 0) samples[name].push(sample);
    }
  }
  return samples;
}

/**
 * Milliseconds `fn` takes to settle.
 *
 * @example
 * ```ts
 * const ms = await time(() => pool.map(addOne, items));
 * ```
 */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

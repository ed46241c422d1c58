/**
 * The median of `values` (0 for none): the upper middle of an even count, which is one of the
 * values measured rather than a mean of two.
 *
 * @example
 * ```ts
 * median([30, 10, 20]); // 20
 * ```
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

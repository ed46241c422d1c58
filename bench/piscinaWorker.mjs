// piscina's side of the benchmarks: the same work as bench/tasks.ts, in plain JavaScript.
// The default export runs one tiny item per piscina task; the others, picked with
// run(items, { name }), run a hand-made chunk of items per task.
import { countPrimesInRange } from './primes.mjs';

/** The tiny task, one item per piscina task. */
export default function addOne(x) {
  return x + 1;
}

/** The tiny task over a hand-made chunk of items. */
export function addOneChunk(items) {
  const results = new Array(items.length);
  for (let i = 0; i < items.length; i++) results[i] = items[i] + 1;
  return results;
}

/** The CPU-bound task over a hand-made chunk of items. */
export function countPrimesChunk(items) {
  return items.map(countPrimesInRange);
}

import type { Chunk } from './PoolEngine.js';

/**
 * Items `from .. to - 1` (counted within `chunk`) as a chunk of their own. The slice reports
 * to the same sink with the original indexes, and shares the original's `control`.
 *
 * @example
 * ```ts
 * const rest = sliceChunk(chunk, 5, chunk.count); // run the items after the fifth elsewhere
 * ```
 */
export function sliceChunk(chunk: Chunk, from: number, to: number): Chunk {
  if (from === 0 && to === chunk.count) return chunk;
  const start = chunk.boundaries[from]!;
  const end = chunk.boundaries[to]!;
  const count = to - from;
  const slice: Chunk = {
    ...chunk,
    count,
    payload: chunk.payload.subarray(start, end),
    boundaries: chunk.boundaries.slice(from, to + 1).map((offset) => offset - start),
    base: chunk.base + from,
    // A batch of calls counts one task per call; a map chunk counts as one task, however split.
    taskCount: chunk.taskCount === chunk.count ? count : chunk.taskCount,
  };
  return slice;
}

/**
 * Fails every item of a chunk with `error`, unless the chunk was cancelled.
 *
 * @example
 * ```ts
 * failChunk(chunk, new PoolClosedError());
 * ```
 */
export function failChunk(chunk: Chunk, error: Error): void {
  if (!chunk.control.cancelled) chunk.sink.onFailed(chunk.base, chunk.base + chunk.count, error);
}

import type { EncodedItems } from '../api/ChunkEncoder.js';
import type { TaskRef } from '../codec/protocol.js';
import type { Chunk, ChunkSink } from './PoolEngine.js';

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
  const count = to - from;
  const slice: Chunk = {
    ...chunk,
    ...sliceEncoded(chunk, from, to),
    count,
    base: chunk.base + from,
    // A batch of calls counts one task per call; a map chunk counts as one task, however split.
    taskCount: chunk.taskCount === chunk.count ? count : chunk.taskCount,
  };
  return slice;
}

/**
 * Items `from .. to - 1` of an encoded run (a chunk's payload and boundaries), as a run of
 * their own; the payload is a view, not a copy.
 *
 * @example
 * ```ts
 * const firstTen = sliceEncoded(encoded, 0, 10);
 * ```
 */
export function sliceEncoded<E extends EncodedRun>(encoded: E, from: number, to: number): EncodedRun & Omit<E, keyof EncodedRun> {
  if (from === 0 && to === encoded.boundaries.length - 1) return encoded;
  const start = encoded.boundaries[from]!;
  const end = encoded.boundaries[to]!;
  return {
    ...encoded,
    payload: encoded.payload.subarray(start, end),
    boundaries: encoded.boundaries.slice(from, to + 1).map((offset) => offset - start),
  };
}

/** Encoded items: back to back in `payload`, item `i` starting at `boundaries[i]`. */
export interface EncodedRun {
  payload: Uint8Array;
  /** One more than the items: the last entry is the payload's length. */
  boundaries: Uint32Array;
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

/**
 * A chunk of `count` encoded calls of one task, not yet split by any engine.
 *
 * @example
 * ```ts
 * engine.submit(makeChunk({ name: 'square' }, false, encoder.take(), 3, sink));
 * ```
 */
export function makeChunk(ref: TaskRef, spread: boolean, encoded: EncodedItems, count: number, sink: ChunkSink): Chunk {
  return {
    task: ref,
    spread,
    count,
    payload: encoded.payload,
    boundaries: encoded.boundaries,
    attachments: encoded.attachments,
    transfer: encoded.transfer,
    base: 0,
    taskCount: count,
    sink,
    control: { cancelled: false, interrupt: false },
  };
}

/**
 * Python's default chunk size: about four chunks per worker.
 *
 * @example
 * ```ts
 * defaultChunksize(1000, 4); // 63
 * ```
 */
export function defaultChunksize(count: number, processes: number): number {
  return Math.max(1, Math.ceil(count / (processes * 4)));
}

import type { TransferListItem } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { ValueDecoder, type HandleReviver } from '../codec/ValueDecoder.js';
import { ValueEncoder } from '../codec/ValueEncoder.js';
import { SerializationError } from '../errors.js';
import { encodeFrame, type ItemError, type RunMessage } from '../codec/protocol.js';
import { TaskRegistry } from './TaskRegistry.js';
import { toFailureInfo, toRemoteErrorInfo } from './errorInfo.js';

/** Partial results are sent at least this often while a chunk runs (for progress and imap). */
const FLUSH_INTERVAL_MS = 50;
/** Synchronous items between two looks at the clock. */
const CLOCK_EVERY_ITEMS = 64;

/** Where a runner sends its encoded frames, with the attachments the results carry. */
export type FrameSink = (frame: Uint8Array, attachments: unknown[], transfer: TransferListItem[]) => void;

/**
 * Runs chunks of task calls in the current thread and reports their results as protocol
 * frames: one item after another, each failure kept to its item, partial results sent while a
 * long chunk runs. Shared by local worker threads and every other place that runs tasks.
 *
 * @example
 * ```ts
 * const runner = new ChunkRunner((frame) => port.postMessage(frame));
 * await runner.run(message, payload, attachments);
 * ```
 */
export class ChunkRunner {
  private readonly encoder = new ValueEncoder();

  constructor(
    private readonly send: FrameSink,
    private readonly reviveHandle?: HandleReviver,
    private readonly registry: TaskRegistry = TaskRegistry.current,
    /** If given, [chunk, item] is written here before each item, for a parent to read after a crash. */
    private readonly progress?: Int32Array,
  ) {}

  /** Runs one chunk. Never rejects: every failure is reported as a frame. */
  async run(message: RunMessage, payload: Uint8Array, attachments: unknown[] = []): Promise<void> {
    let fn: (...args: unknown[]) => unknown;
    let items: unknown[];
    try {
      fn = (await this.registry.resolve(message.task)).fn as (...args: unknown[]) => unknown;
      items = new ValueDecoder(payload, attachments, this.reviveHandle).readMany(message.count);
    } catch (error) {
      this.send(encodeFrame({ type: 'chunkFailed', chunk: message.chunk, error: toFailureInfo(error) }), [], []);
      return;
    }
    const encoder = this.encoder;
    const spread = message.spread;
    let errors: Array<[number, ItemError]> = [];
    let from = 0;
    let partStart = performance.now();
    let lastFlush = partStart;
    let sinceClock = 0;
    const flush = (end: number, final: boolean) => {
      const now = performance.now();
      const { attachments: resultAttachments, transfer } = encoder.takeAttachments();
      const frame = encodeFrame(
        { type: 'results', chunk: message.chunk, from, count: end - from, errors, final, busyMs: now - partStart },
        encoder.finish(),
      );
      this.send(frame, resultAttachments, transfer);
      from = end;
      errors = [];
      partStart = lastFlush = now;
    };
    const progress = this.progress;
    if (progress) progress[0] = message.chunk;
    for (let index = 0; index < items.length; index++) {
      if (progress) progress[1] = index;
      let result: unknown;
      let wasAsync = false;
      try {
        const item = items[index];
        result = spread ? fn(...(item as unknown[])) : fn(item);
        if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
          wasAsync = true;
          result = await result;
        }
      } catch (thrown) {
        errors.push([index, { remote: toRemoteErrorInfo(thrown) }]);
        encoder.write(undefined, '');
        continue;
      }
      try {
        encoder.write(result, `the result of task '${message.task.name}' for item ${index}`);
      } catch (error) {
        if (!(error instanceof SerializationError)) throw error;
        errors.push([index, { failure: toFailureInfo(error) }]);
        encoder.write(undefined, '');
      }
      if ((wasAsync || ++sinceClock >= CLOCK_EVERY_ITEMS) && index + 1 < items.length) {
        sinceClock = 0;
        if (performance.now() - lastFlush >= FLUSH_INTERVAL_MS) flush(index + 1, false);
      }
    }
    flush(items.length, true);
  }
}

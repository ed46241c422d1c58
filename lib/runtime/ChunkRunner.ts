import type { TransferListItem } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { ValueDecoder, type HandleReviver } from '../codec/ValueDecoder.js';
import { ValueEncoder } from '../codec/ValueEncoder.js';
import { SerializationError } from '../errors.js';
import { encodeFrame, type ItemError, type Message, type RunMessage } from '../codec/protocol.js';
import { TaskRegistry } from './TaskRegistry.js';
import { RUNNING_CHUNK, RUNNING_ITEM } from './workerSignals.js';
import { toFailureInfo, toRemoteErrorInfo } from './errorInfo.js';

/** Partial results are sent at least this often while a chunk runs (for progress and imap). */
const FLUSH_INTERVAL_MS = 50;
/** Synchronous items between two looks at the clock. */
const CLOCK_EVERY_ITEMS = 64;

/** Where a runner sends its encoded frames, with the attachments the results carry. */
export type FrameSink<F = Uint8Array> = (frame: F, attachments: unknown[], transfer: TransferListItem[]) => void;

/** How a runner frames its messages: bytes by default; a thread transport may want strings. */
export type FrameEncoder<F> = (message: Message, payload?: Uint8Array) => F;

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
export class ChunkRunner<F = Uint8Array> {
  private readonly encoder = new ValueEncoder();

  constructor(
    private readonly send: FrameSink<F>,
    private readonly reviveHandle?: HandleReviver,
    private readonly registry: TaskRegistry = TaskRegistry.current,
    /** If given, the chunk and item are written here before each item, for a parent to read after a crash. */
    private readonly signals?: Int32Array,
    private readonly encode: FrameEncoder<F> = encodeFrame as unknown as FrameEncoder<F>,
  ) {}

  /**
   * Runs one chunk. Returns a promise only if some task was asynchronous (or its module had to
   * be imported), so that a chunk of synchronous tasks costs no promise at all. Never rejects:
   * every failure is reported as a frame. `payload` is read before this returns (it may be a
   * reused buffer).
   */
  run(message: RunMessage, payload: Uint8Array, attachments: unknown[] = []): void | Promise<void> {
    const entry = this.registry.get(message.task.name);
    if (!entry) {
      // The payload may live in a reused buffer: keep a copy while the module loads.
      const kept = Uint8Array.prototype.slice.call(payload);
      return this.registry.resolve(message.task).then(
        () => this.run(message, kept, attachments),
        (error: unknown) => this.sendChunkFailed(message, error),
      );
    }
    let items: unknown[];
    try {
      items = new ValueDecoder(payload, attachments, this.reviveHandle).readMany(message.count);
    } catch (error) {
      return this.sendChunkFailed(message, error);
    }
    const state: RunState = {
      message,
      fn: entry.fn as (...args: unknown[]) => unknown,
      items,
      errors: [],
      from: 0,
      partStart: performance.now(),
      sinceClock: 0,
    };
    if (this.signals) this.signals[RUNNING_CHUNK] = message.chunk;
    return this.runFrom(state, 0);
  }

  private sendChunkFailed(message: RunMessage, error: unknown): void {
    this.send(this.encode({ type: 'chunkFailed', chunk: message.chunk, error: toFailureInfo(error) }), [], []);
  }

  /** Runs items from `start` on, synchronously until a task returns a promise. */
  private runFrom(state: RunState, start: number): void | Promise<void> {
    const { items, fn } = state;
    const spread = state.message.spread;
    const signals = this.signals;
    for (let index = start; index < items.length; index++) {
      if (signals) signals[RUNNING_ITEM] = index;
      let result: unknown;
      try {
        const item = items[index];
        result = spread ? fn(...(item as unknown[])) : fn(item);
      } catch (thrown) {
        this.recordError(state, index, thrown);
        continue;
      }
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        return this.awaitItem(state, index, result as PromiseLike<unknown>);
      }
      this.recordResult(state, index, result);
      if (++state.sinceClock >= CLOCK_EVERY_ITEMS) this.maybeFlush(state, index + 1);
    }
    this.flush(state, items.length, true);
  }

  private async awaitItem(state: RunState, index: number, pending: PromiseLike<unknown>): Promise<void> {
    try {
      this.recordResult(state, index, await pending);
    } catch (thrown) {
      this.recordError(state, index, thrown);
    }
    this.maybeFlush(state, index + 1);
    return this.runFrom(state, index + 1);
  }

  private recordResult(state: RunState, index: number, result: unknown): void {
    if (this.encoder.writePrimitive(result)) return;
    try {
      this.encoder.write(result, '');
    } catch (error) {
      if (!(error instanceof SerializationError)) throw error;
      const labelled = error.under(`the result of task '${state.message.task.name}' for item ${index}`);
      state.errors.push([index, { failure: toFailureInfo(labelled) }]);
      this.encoder.write(undefined, '');
    }
  }

  private recordError(state: RunState, index: number, thrown: unknown): void {
    state.errors.push([index, { remote: toRemoteErrorInfo(thrown) }]);
    this.encoder.write(undefined, '');
  }

  /** Sends the results so far if the last part went out long enough ago. */
  private maybeFlush(state: RunState, end: number): void {
    state.sinceClock = 0;
    if (end < state.items.length && performance.now() - state.partStart >= FLUSH_INTERVAL_MS) this.flush(state, end, false);
  }

  private flush(state: RunState, end: number, final: boolean): void {
    const now = performance.now();
    const { attachments, transfer } = this.encoder.takeAttachments();
    const frame = this.encode(
      {
        type: 'results',
        chunk: state.message.chunk,
        from: state.from,
        count: end - state.from,
        errors: state.errors,
        final,
        busyMs: now - state.partStart,
      },
      this.encoder.finish(),
    );
    this.send(frame, attachments, transfer);
    state.from = end;
    state.errors = [];
    state.partStart = now;
  }
}

/** A chunk in progress. */
interface RunState {
  message: RunMessage;
  fn: (...args: unknown[]) => unknown;
  items: unknown[];
  errors: Array<[number, ItemError]>;
  /** First item of the part not yet sent. */
  from: number;
  partStart: number;
  sinceClock: number;
}

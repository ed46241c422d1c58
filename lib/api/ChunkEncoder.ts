import type { TransferListItem } from 'node:worker_threads';
import { ValueEncoder } from '../codec/ValueEncoder.js';
import { InvalidArgumentError, SerializationError } from '../errors.js';
import { setEncodingTarget } from './handleTarget.js';

/** Boundary slots kept between chunks (4 MiB): chunks of up to this many items reuse them. */
const MAX_KEPT_BOUNDARIES = 1 << 20;

/** The encoded form of a run of items: what a `Chunk` carries. */
export interface EncodedItems {
  payload: Uint8Array;
  boundaries: Uint32Array;
  attachments: unknown[];
  transfer: TransferListItem[];
}

/**
 * Encodes the items of chunks, recording where each item starts so that a chunk can later be
 * split. Items are checked as they are encoded, so that a value that cannot cross fails the
 * call that submitted it, naming the item.
 *
 * @example
 * ```ts
 * const encoder = new ChunkEncoder(false);
 * encoder.add(3, 'item 0');
 * const { payload, boundaries } = encoder.take();
 * ```
 */
export class ChunkEncoder {
  private readonly encoder = new ValueEncoder();
  /** Where each item added since the last take starts (grown by doubling). */
  private boundaries = new Uint32Array(64);
  private added = 0;

  /**
   * `spread`: each item is an argument array (apply, starmap) rather than one argument.
   * `backendName`: where the items go; a shared object of another backend refuses to go there.
   */
  constructor(
    private readonly spread: boolean,
    private readonly backendName?: string,
  ) {}

  /** Items added since the last {@link take}. */
  get count(): number {
    return this.added;
  }

  /** Adds one item; `label` names it in errors (`item 3`, `the arguments`). */
  add(item: unknown, label: string): void {
    const previousTarget = setEncodingTarget(this.backendName);
    try {
      this.addItem(item, label);
    } finally {
      setEncodingTarget(previousTarget);
    }
  }

  /** Adds many items at once (the hot path of `map`); `firstIndex` numbers them in errors. */
  addAll(items: readonly unknown[], start: number, end: number, firstIndex: number): void {
    const previousTarget = setEncodingTarget(this.backendName);
    const encoder = this.encoder;
    let i = start;
    try {
      for (; i < end; i++) {
        const item = items[i];
        if (this.added === this.boundaries.length) this.growBoundaries();
        const at = encoder.length;
        if (this.spread) {
          if (!Array.isArray(item))
            throw new InvalidArgumentError(`item ${firstIndex + i - start}`, item, 'an array of arguments');
          encoder.write(item, '');
        } else if (!encoder.writePrimitive(item)) {
          encoder.write(item, '');
        }
        this.boundaries[this.added++] = at;
      }
    } catch (error) {
      // Items are labelled only on error: no string per item on the hot path.
      throw error instanceof SerializationError ? error.under(`item ${firstIndex + i - start}`) : error;
    } finally {
      setEncodingTarget(previousTarget);
    }
  }

  /** Takes what was added as one encoded run, and starts afresh. */
  take(): EncodedItems {
    const boundaries = new Uint32Array(this.added + 1);
    boundaries.set(this.boundaries.subarray(0, this.added));
    boundaries[this.added] = this.encoder.length;
    this.added = 0;
    if (this.boundaries.length > MAX_KEPT_BOUNDARIES) this.boundaries = new Uint32Array(64);
    const { attachments, transfer } = this.encoder.takeAttachments();
    return { payload: this.encoder.finish(), boundaries, attachments, transfer };
  }

  private addItem(item: unknown, label: string): void {
    if (this.spread && !Array.isArray(item)) throw new InvalidArgumentError(label, item, 'an array of arguments');
    if (this.added === this.boundaries.length) this.growBoundaries();
    const at = this.encoder.length;
    this.encoder.write(item, label);
    this.boundaries[this.added++] = at;
  }

  private growBoundaries(): void {
    const grown = new Uint32Array(this.boundaries.length * 2);
    grown.set(this.boundaries);
    this.boundaries = grown;
  }
}

import type { TransferListItem } from 'node:worker_threads';
import { ValueEncoder } from '../codec/ValueEncoder.js';
import { InvalidArgumentError } from '../errors.js';
import { setEncodingTarget } from './handleTarget.js';

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
  private boundaries: number[] = [];

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
    return this.boundaries.length;
  }

  /** Adds one item; `label` names it in errors (`item 3`, `the arguments`). */
  add(item: unknown, label: string | (() => string)): void {
    if (this.spread && !Array.isArray(item)) {
      throw new InvalidArgumentError(typeof label === 'function' ? label() : label, item, 'an array of arguments');
    }
    const start = this.encoder.length;
    const previousTarget = setEncodingTarget(this.backendName);
    try {
      this.encoder.write(item, label);
    } finally {
      setEncodingTarget(previousTarget);
    }
    this.boundaries.push(start);
  }

  /** Adds many items at once (the hot path of `map`); `firstIndex` numbers them in errors. */
  addAll(items: readonly unknown[], start: number, end: number, firstIndex: number): void {
    for (let i = start; i < end; i++) this.add(items[i], () => `item ${firstIndex + i - start}`);
  }

  /** Takes what was added as one encoded run, and starts afresh. */
  take(): EncodedItems {
    const boundaries = new Uint32Array(this.boundaries.length + 1);
    boundaries.set(this.boundaries);
    boundaries[this.boundaries.length] = this.encoder.length;
    this.boundaries = [];
    const { attachments, transfer } = this.encoder.takeAttachments();
    return { payload: this.encoder.finish(), boundaries, attachments, transfer };
  }
}

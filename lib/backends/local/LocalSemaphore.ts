import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import type { SemaphoreEngine } from '../../backend/SyncEngines.js';
import { ValueError } from '../../errors.js';
import type { Deadline } from '../../backend/Deadline.js';
import { waitForChange } from './waitForChange.js';
import { sharedWords } from './sharedWords.js';

// Word layout of a semaphore's SharedArrayBuffer.
const VALUE = 0;
const WAITERS = 1;
const SEQ = 2;
/** The bound of a BoundedSemaphore, or -1. */
const MAX = 3;
const WORDS = 4;

/**
 * A counting semaphore in shared memory (local backend), bounded or not: a compare-and-swap
 * fast path, and `Atomics.waitAsync` for waits.
 *
 * @example
 * ```ts
 * const slots = LocalSemaphore.create(2, undefined);
 * if (await slots.acquire(Deadline.after(1000))) slots.release(1);
 * ```
 */
export class LocalSemaphore implements SemaphoreEngine {
  readonly backend = 'local' as const;
  readonly maxValue: number | undefined;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly words: Int32Array,
  ) {
    const max = Atomics.load(words, MAX);
    this.maxValue = max < 0 ? undefined : max;
  }

  static create(value: number, maxValue: number | undefined): LocalSemaphore {
    const buffer = new SharedArrayBuffer(WORDS * 4);
    const words = new Int32Array(buffer);
    words[VALUE] = value;
    words[MAX] = maxValue ?? -1;
    return new LocalSemaphore(buffer, words);
  }

  static fromHandle(attachments: unknown[]): LocalSemaphore {
    const buffer = sharedWords('local.semaphore', attachments, 0, WORDS);
    return new LocalSemaphore(buffer, new Int32Array(buffer));
  }

  handle(): HandleDescriptor {
    return { kind: 'local.semaphore', state: null, attachments: [this.buffer] };
  }

  tryAcquire(): boolean {
    const words = this.words;
    for (;;) {
      const value = Atomics.load(words, VALUE);
      if (value === 0) return false;
      if (Atomics.compareExchange(words, VALUE, value, value - 1) === value) return true;
    }
  }

  async acquire(deadline: Deadline): Promise<boolean> {
    if (this.tryAcquire()) return true;
    if (deadline.expired()) return false;
    const words = this.words;
    Atomics.add(words, WAITERS, 1);
    try {
      for (;;) {
        const seen = Atomics.load(words, SEQ);
        if (this.tryAcquire()) return true;
        const left = deadline.remaining();
        if (left === 0) return false;
        await waitForChange(words, SEQ, seen, deadline);
      }
    } finally {
      Atomics.sub(words, WAITERS, 1);
    }
  }

  release(n: number): void {
    const words = this.words;
    for (;;) {
      const value = Atomics.load(words, VALUE);
      const limit = this.maxValue ?? 0x7fffffff;
      if (value + n > limit) {
        throw new ValueError(
          this.maxValue === undefined
            ? `Semaphore value would exceed ${limit}, the largest a semaphore can hold.`
            : `semaphore or lock released too many times: this BoundedSemaphore's value is ${value} and its bound ${limit}.`,
        );
      }
      if (Atomics.compareExchange(words, VALUE, value, value + n) === value) break;
    }
    if (Atomics.load(words, WAITERS) > 0) {
      Atomics.add(words, SEQ, 1);
      Atomics.notify(words, SEQ, n);
    }
  }

  getValue(): number {
    return Atomics.load(this.words, VALUE);
  }
}

import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import type { EventEngine } from '../../backend/SyncEngines.js';
import type { Deadline } from '../../backend/Deadline.js';
import { waitForChange } from './waitForChange.js';
import { sharedWords } from './sharedWords.js';

// Word layout of an event's SharedArrayBuffer.
const FLAG = 0;
/** Bumped by every set() that raised the flag; waiters sleep on it. */
const GENERATION = 1;
const WORDS = 2;

/**
 * An event flag in shared memory (local backend). Waiters sleep on a generation word with
 * `Atomics.waitAsync`; `set` raises the flag, bumps the generation and wakes them all. A waiter
 * woken by a `set` returns true even if `clear` follows at once, as Python's `Event.wait`.
 *
 * @example
 * ```ts
 * const ready = LocalEvent.create();
 * setTimeout(() => ready.set(), 10);
 * await ready.wait(Deadline.never); // true
 * ```
 */
export class LocalEvent implements EventEngine {
  readonly backend = 'local' as const;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly words: Int32Array,
  ) {}

  static create(): LocalEvent {
    const buffer = new SharedArrayBuffer(WORDS * 4);
    return new LocalEvent(buffer, new Int32Array(buffer));
  }

  static fromHandle(attachments: unknown[]): LocalEvent {
    const buffer = sharedWords('local.event', attachments, 0, WORDS);
    return new LocalEvent(buffer, new Int32Array(buffer));
  }

  handle(): HandleDescriptor {
    return { kind: 'local.event', state: null, attachments: [this.buffer] };
  }

  set(): void {
    const words = this.words;
    if (Atomics.exchange(words, FLAG, 1) === 0) {
      Atomics.add(words, GENERATION, 1);
      Atomics.notify(words, GENERATION);
    }
  }

  clear(): void {
    Atomics.store(this.words, FLAG, 0);
  }

  isSet(): boolean {
    return Atomics.load(this.words, FLAG) === 1;
  }

  async wait(deadline: Deadline): Promise<boolean> {
    const words = this.words;
    if (Atomics.load(words, FLAG) === 1) return true;
    if (deadline.expired()) return false;
    // The generation is read before the flag: a set() after that read bumps it, so the wait
    // below returns at once instead of missing it.
    const generation = Atomics.load(words, GENERATION);
    for (;;) {
      if (Atomics.load(words, FLAG) === 1) return true;
      const left = deadline.remaining();
      if (left === 0) return false;
      await waitForChange(words, GENERATION, generation, deadline);
      if (Atomics.load(words, GENERATION) !== generation) return true;
    }
  }
}

import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import type { BarrierEngine } from '../../backend/SyncEngines.js';
import { BrokenBarrierError } from '../../errors.js';
import { Deadline } from '../../backend/Deadline.js';
import { LocalCondition } from './LocalCondition.js';
import { LocalLock } from './LocalLock.js';
import { sharedWords } from './sharedWords.js';

// Word layout of a barrier's state buffer.
const STATE = 0;
const COUNT = 1;
const PARTIES = 2;
const WORDS = 3;
// States, as Python's threading.Barrier.
const FILLING = 0;
const DRAINING = 1;
const RESETTING = -1;
const BROKEN = -2;

/**
 * A barrier in shared memory (local backend): Python's `threading.Barrier` algorithm over a
 * {@link LocalLock} and a {@link LocalCondition}, with its state and count in shared words.
 * Parties arrive while the barrier fills; the last one runs the action and lets them all go
 * (draining); the barrier refills once every party has left. A timeout, an `abort()` or a
 * failing action breaks it, and every waiter gets {@link BrokenBarrierError}.
 *
 * @example
 * ```ts
 * const barrier = LocalBarrier.create(3);
 * const index = await barrier.wait(Deadline.after(5000), undefined); // 0, 1 or 2
 * ```
 */
export class LocalBarrier implements BarrierEngine {
  readonly backend = 'local' as const;
  readonly parties: number;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    private readonly words: Int32Array,
    private readonly lock: LocalLock,
    private readonly condition: LocalCondition,
  ) {
    this.parties = Atomics.load(words, PARTIES);
  }

  static create(parties: number): LocalBarrier {
    const buffer = new SharedArrayBuffer(WORDS * 4);
    const words = new Int32Array(buffer);
    words[PARTIES] = parties;
    const lock = LocalLock.create(false);
    return new LocalBarrier(buffer, words, lock, LocalCondition.create(lock));
  }

  static fromHandle(attachments: unknown[]): LocalBarrier {
    const buffer = sharedWords('local.barrier', attachments, 0, WORDS);
    const lock = LocalLock.fromHandle(false, attachments.slice(1, 2));
    return new LocalBarrier(buffer, new Int32Array(buffer), lock, LocalCondition.fromHandle(lock, attachments.slice(2, 3)));
  }

  handle(): HandleDescriptor {
    return {
      kind: 'local.barrier',
      state: null,
      attachments: [this.buffer, this.lock.buffer, this.condition.buffer],
    };
  }

  async wait(deadline: Deadline, action: (() => unknown) | undefined): Promise<number> {
    await this.lock.acquire(Deadline.never);
    try {
      await this.enter();
      const index = Atomics.add(this.words, COUNT, 1);
      try {
        if (index + 1 === this.parties) await this.releaseParties(action);
        else await this.waitForRelease(deadline);
        return index;
      } finally {
        Atomics.sub(this.words, COUNT, 1);
        this.exit();
      }
    } finally {
      this.lock.release();
    }
  }

  async reset(): Promise<void> {
    await this.lock.acquire(Deadline.never);
    try {
      const state = this.state;
      if (Atomics.load(this.words, COUNT) > 0) {
        // Waiters leave with BrokenBarrierError; the last one out refills the barrier.
        if (state === FILLING || state === BROKEN) this.state = RESETTING;
      } else {
        this.state = FILLING;
      }
      this.condition.notify(Infinity);
    } finally {
      this.lock.release();
    }
  }

  async abort(): Promise<void> {
    await this.lock.acquire(Deadline.never);
    try {
      this.breakBarrier();
    } finally {
      this.lock.release();
    }
  }

  nWaiting(): number {
    return this.state === FILLING ? Atomics.load(this.words, COUNT) : 0;
  }

  broken(): boolean {
    return this.state === BROKEN;
  }

  private get state(): number {
    return Atomics.load(this.words, STATE);
  }

  private set state(value: number) {
    Atomics.store(this.words, STATE, value);
  }

  /** Waits while the previous round drains or resets; refuses a broken barrier. */
  private async enter(): Promise<void> {
    while (this.state === DRAINING || this.state === RESETTING) await this.condition.wait(Deadline.never);
    if (this.state === BROKEN) throw new BrokenBarrierError('The barrier is broken: call reset() before using it again.');
  }

  /** The last party: runs the action, then lets everyone go. */
  private async releaseParties(action: (() => unknown) | undefined): Promise<void> {
    try {
      if (action) await action();
      this.state = DRAINING;
      this.condition.notify(Infinity);
    } catch (error) {
      this.breakBarrier();
      throw error;
    }
  }

  private async waitForRelease(deadline: Deadline): Promise<void> {
    while (this.state === FILLING) {
      const left = deadline.remaining();
      if (left === 0) {
        this.breakBarrier();
        throw new BrokenBarrierError(
          `The barrier timed out after ${String(deadline.timeoutMs)} ms waiting for all ${this.parties} parties, and is now broken.`,
        );
      }
      await this.condition.wait(deadline);
    }
    if (this.state < 0)
      throw new BrokenBarrierError('The barrier was broken (aborted, reset, or a party timed out) while waiting.');
  }

  /** The last party to leave a drained or reset barrier makes it ready for the next round. */
  private exit(): void {
    if (Atomics.load(this.words, COUNT) === 0 && (this.state === RESETTING || this.state === DRAINING)) {
      this.state = FILLING;
      this.condition.notify(Infinity);
    }
  }

  private breakBarrier(): void {
    this.state = BROKEN;
    this.condition.notify(Infinity);
  }
}

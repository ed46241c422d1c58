import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import type { ConditionEngine } from '../../backend/SyncEngines.js';
import { RuntimeError } from '../../errors.js';
import type { Deadline } from '../../backend/Deadline.js';
import { waitForChange } from './waitForChange.js';
import type { LocalLock } from './LocalLock.js';
import { sharedWords } from './sharedWords.js';

/** Waits on one condition that can be pending at once (across every thread). */
export const CONDITION_CAPACITY = 1024;
// Slot states: each waiter owns one slot while it waits.
const FREE = 0;
const WAITING = 1;
const NOTIFIED = 2;

/**
 * A condition variable in shared memory (local backend), over a {@link LocalLock}. Each waiter
 * claims a slot before it releases the lock and sleeps on that slot; `notify(n)` (called with
 * the lock held) marks up to `n` waiting slots as notified and wakes exactly those. A waiter
 * that times out frees its slot, so it never absorbs a later notification. No order among
 * waiters is promised.
 *
 * @example
 * ```ts
 * const condition = LocalCondition.create(lock);
 * await lock.acquire(Deadline.never);
 * await condition.wait(Deadline.after(1000));
 * ```
 */
export class LocalCondition implements ConditionEngine {
  readonly backend = 'local' as const;

  private constructor(
    readonly lock: LocalLock,
    readonly buffer: SharedArrayBuffer,
    private readonly slots: Int32Array,
  ) {}

  static create(lock: LocalLock): LocalCondition {
    const buffer = new SharedArrayBuffer(CONDITION_CAPACITY * 4);
    return new LocalCondition(lock, buffer, new Int32Array(buffer));
  }

  static fromHandle(lock: LocalLock, attachments: unknown[]): LocalCondition {
    const buffer = sharedWords('local.condition', attachments, 0, 1);
    return new LocalCondition(lock, buffer, new Int32Array(buffer));
  }

  handle(): HandleDescriptor {
    return { kind: 'local.condition', state: null, attachments: [this.buffer] };
  }

  async wait(deadline: Deadline): Promise<boolean> {
    const lock = this.lock;
    if (!lock.isMine())
      throw new RuntimeError('cannot wait on un-acquired lock: acquire the Condition (its lock) before wait().');
    const slots = this.slots;
    // The slot is claimed while the lock is held, so every notify() that follows the release sees it.
    const slot = this.claimSlot();
    const depth = lock.releaseAll();
    let notified: boolean;
    let freed = false;
    try {
      for (;;) {
        if (Atomics.load(slots, slot) === NOTIFIED) {
          notified = true;
          break;
        }
        const left = deadline.remaining();
        if (left === 0) {
          // Give the slot up, unless a notify() got to it first: then the notification is ours.
          freed = Atomics.compareExchange(slots, slot, WAITING, FREE) === WAITING;
          notified = !freed;
          break;
        }
        await waitForChange(slots, slot, WAITING, deadline);
      }
    } finally {
      // A slot given up above may already belong to another waiter: only free it while it is ours.
      if (!freed) Atomics.store(slots, slot, FREE);
      await lock.acquireRestore(depth);
    }
    return notified;
  }

  notify(n: number): void {
    if (!this.lock.isMine()) throw new RuntimeError('cannot notify on un-acquired lock: acquire the Condition (its lock) first.');
    const slots = this.slots;
    let woken = 0;
    for (let slot = 0; slot < slots.length && woken < n; slot++) {
      if (Atomics.load(slots, slot) === WAITING && Atomics.compareExchange(slots, slot, WAITING, NOTIFIED) === WAITING) {
        Atomics.notify(slots, slot, 1);
        woken++;
      }
    }
  }

  private claimSlot(): number {
    const slots = this.slots;
    for (let slot = 0; slot < slots.length; slot++) {
      if (Atomics.load(slots, slot) === FREE && Atomics.compareExchange(slots, slot, FREE, WAITING) === FREE) return slot;
    }
    throw new RuntimeError(
      `Too many waiters on one Condition: at most ${slots.length} wait() calls can be pending at once (local backend).`,
    );
  }
}

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Deadline } from '../../backend/Deadline.js';
import type { ConditionEngine } from '../../backend/SyncEngines.js';
import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import { InvalidArgumentError, RuntimeError } from '../../errors.js';
import type { AwsLockState } from './AwsLock.js';
import { AwsLock } from './AwsLock.js';
import type { LockOwner } from './awsOwner.js';
import type { ConditionStore } from './ConditionStore.js';
import { PollBackoff } from './PollBackoff.js';

/** The state of an `aws.condition` handle: its id and its lock's handle state. */
export interface AwsConditionState {
  id: string;
  lock: AwsLockState;
}

/**
 * A condition variable of the aws backend, over an {@link AwsLock} (Lock or RLock). A waiter,
 * holding the lock, writes an item of its own in the condition's partition, releases every level
 * of the lock (one request), then polls its item with jittered back-off (20 ms doubling to 1 s)
 * until it is gone or its deadline passes, and re-acquires the lock at the depth it had.
 * `notify(n)` (by the lock's holder) deletes the items of the `n` oldest waiters, each with a
 * conditional delete; `notifyAll` deletes every waiter's item, 25 to a request. A waiter whose
 * deadline passes deletes its own item: the delete's old value says whether a notify took it first.
 *
 * @example
 * ```ts
 * const condition = AwsCondition.create(await AwsLock.create(backend, { recursive: true }));
 * await condition.lock.acquire(Deadline.never);
 * const notified = await condition.wait(Deadline.after(1_000));
 * await condition.lock.release();
 * ```
 */
export class AwsCondition implements ConditionEngine {
  readonly backend = 'aws' as const;
  private openStore: Promise<ConditionStore> | undefined;

  constructor(
    readonly lock: AwsLock,
    readonly id: string = randomBytes(12).toString('hex'),
  ) {}

  /** A new condition over `lock` (nothing is written until someone waits). */
  static create(lock: AwsLock): AwsCondition {
    return new AwsCondition(lock);
  }

  /**
   * Re-binds a condition (and its lock) that arrived as a handle.
   *
   * @example
   * ```ts
   * const condition = AwsCondition.fromHandle(descriptor.state);
   * ```
   */
  static fromHandle(state: unknown, owner?: LockOwner): AwsCondition {
    const s = state as Partial<AwsConditionState> | null;
    if (!s || typeof s.id !== 'string' || typeof s.lock !== 'object' || s.lock === null) {
      throw new InvalidArgumentError('an aws.condition handle', state, 'an object with id and lock');
    }
    return new AwsCondition(AwsLock.fromHandle(s.lock, owner), s.id);
  }

  handle(): HandleDescriptor {
    const state: AwsConditionState = { id: this.id, lock: this.lock.handle().state as AwsLockState };
    return { kind: 'aws.condition', state };
  }

  async wait(deadline: Deadline): Promise<boolean> {
    const lock = this.lock;
    const token = lock.heldToken();
    if (token === undefined) {
      throw new RuntimeError('cannot wait on un-acquired lock: acquire the Condition (its lock) before wait().');
    }
    const store = await this.store();
    // Registered while the lock is held, so every notify() after the release below sees it.
    const waiter = await store.register(this.id, token, randomBytes(4).toString('hex'));
    let depth: number;
    try {
      depth = await lock.releaseAll();
    } catch (error) {
      await store.withdraw(waiter).catch(() => undefined);
      throw error;
    }
    try {
      const backoff = new PollBackoff();
      let roundTrip = 0;
      for (;;) {
        // At the deadline the waiter withdraws; if its item was gone already, a notify took it.
        if (deadline.expired()) return !(await store.withdraw(waiter));
        await backoff.sleep(Math.min(backoff.next(roundTrip), deadline.remaining()));
        const pollAt = performance.now();
        if (!(await store.present(waiter))) return true;
        roundTrip = performance.now() - pollAt;
      }
    } catch (error) {
      // A failed poll: withdraw, so that no later notify is spent on a waiter that has gone.
      await store.withdraw(waiter).catch(() => undefined);
      throw error;
    } finally {
      await lock.acquireRestore(depth);
    }
  }

  async notify(n: number): Promise<void> {
    if (this.lock.heldToken() === undefined) {
      throw new RuntimeError('cannot notify on un-acquired lock: acquire the Condition (its lock) first.');
    }
    if (!(n > 0)) return;
    const store = await this.store();
    if (n === Infinity) await store.notifyAll(this.id);
    else await store.notify(this.id, Math.floor(n));
  }

  private store(): Promise<ConditionStore> {
    if (!this.openStore) {
      const opening = Promise.all([import('./ConditionStore.js'), this.lock.session()]).then(([module, session]) =>
        module.ConditionStore.forSession(session),
      );
      this.openStore = opening;
      opening.catch(() => {
        if (this.openStore === opening) this.openStore = undefined;
      });
    }
    return this.openStore;
  }
}

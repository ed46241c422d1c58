import { Deadline } from '../../../../lib/backend/Deadline.js';
import { describe, expect, it } from 'vitest';
import { RuntimeError } from 'fanout';
import { CONDITION_CAPACITY, LocalCondition } from '../../../../lib/backends/local/LocalCondition.js';
import { LocalLock } from '../../../../lib/backends/local/LocalLock.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a flow that takes the lock, waits on the condition, and releases the lock. */
function waiter(lock: LocalLock, condition: LocalCondition, timeout: number): Promise<boolean> {
  return (async () => {
    await lock.acquire(Deadline.never);
    try {
      return await condition.wait(Deadline.after(timeout));
    } finally {
      lock.release();
    }
  })();
}

/** Resolves once `count` waiters hold a slot and the lock is free (so each is inside wait). */
async function allWaiting(lock: LocalLock, condition: LocalCondition, count: number): Promise<void> {
  const slots = new Int32Array(condition.buffer);
  while (slots.filter((slot) => slot !== 0).length < count || lock.locked()) await pause(2);
}

async function notify(lock: LocalLock, condition: LocalCondition, n: number): Promise<void> {
  await lock.acquire(Deadline.never);
  condition.notify(n);
  lock.release();
}

describe('LocalCondition', () => {
  it('requires the lock', async () => {
    const lock = LocalLock.create(false);
    const condition = LocalCondition.create(lock);
    await expect(condition.wait(Deadline.after(10))).rejects.toThrow(RuntimeError);
    expect(() => condition.notify(1)).toThrow(/un-acquired lock/);
  });

  it('notify(n) wakes exactly n waiters', async () => {
    const lock = LocalLock.create(false);
    const condition = LocalCondition.create(lock);
    const results: boolean[] = [];
    const waits = Array.from({ length: 5 }, () => waiter(lock, condition, 60_000).then((r) => results.push(r)));
    await allWaiting(lock, condition, 5);
    await notify(lock, condition, 2);
    while (results.length < 2) await pause(2);
    // The other three stay asleep: nothing else notifies them.
    await pause(30);
    expect(results).toEqual([true, true]);
    await notify(lock, condition, Infinity);
    await Promise.all(waits);
    expect(results).toEqual([true, true, true, true, true]);
  });

  it('a waiter that timed out does not absorb a later notification', async () => {
    const lock = LocalLock.create(false);
    const condition = LocalCondition.create(lock);
    expect(await waiter(lock, condition, 10)).toBe(false);
    const second = waiter(lock, condition, 60_000);
    await allWaiting(lock, condition, 1);
    await notify(lock, condition, 1);
    expect(await second).toBe(true);
  });

  it('holds the lock again when wait returns, also after a timeout', async () => {
    const lock = LocalLock.create(true);
    const condition = LocalCondition.create(lock);
    await lock.acquire(Deadline.never);
    await lock.acquire(Deadline.never);
    expect(await condition.wait(Deadline.after(5))).toBe(false);
    expect(lock.isMine()).toBe(true);
    lock.release();
    lock.release();
    expect(lock.locked()).toBe(false);
  });

  it(`refuses more than ${CONDITION_CAPACITY} pending waits with a clear error`, async () => {
    const lock = LocalLock.create(false);
    const condition = LocalCondition.create(lock);
    const waits = Array.from({ length: CONDITION_CAPACITY }, () => waiter(lock, condition, 60_000));
    await allWaiting(lock, condition, CONDITION_CAPACITY);
    await expect(waiter(lock, condition, 60_000)).rejects.toThrow(/Too many waiters/);
    await notify(lock, condition, Infinity);
    expect((await Promise.all(waits)).every(Boolean)).toBe(true);
  });
});

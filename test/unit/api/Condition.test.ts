import { describe, expect, it } from 'vitest';
import { Condition, InvalidArgumentError, Lock, RLock, Semaphore, withLock } from 'fanout';

describe('Condition (public API)', () => {
  it('uses a new RLock by default, or the lock given', () => {
    expect(new Condition().getLock()).toBeInstanceOf(RLock);
    const lock = new Lock();
    expect(new Condition(lock).getLock()).toBe(lock);
  });

  it('refuses a lock that is not a Lock or RLock', () => {
    expect(() => new Condition(new Semaphore() as never)).toThrow(InvalidArgumentError);
    expect(() => new Condition({} as never)).toThrow(/a Lock, an RLock, or undefined/);
  });

  it('checks notify(n), waitFor(predicate) and timeouts', async () => {
    const condition = new Condition();
    await withLock(condition, async () => {
      await expect(condition.notify(-1)).rejects.toThrow(/Condition\.notify\(n\) must be a whole number ≥ 0/);
      await expect(condition.notify(0)).resolves.toBeUndefined();
      await expect(condition.waitFor('ready' as never)).rejects.toThrow(/a function/);
      await expect(condition.wait(Number.NaN)).rejects.toThrow(/Condition\.wait\(timeout\)/);
      await expect(condition.wait(-1)).resolves.toBe(false); // counts as zero, as in Python
    });
  });

  it('waitFor re-checks a predicate after each notify until it holds', async () => {
    const condition = new Condition();
    let count = 0;
    const waiting = withLock(condition, () => condition.waitFor(() => count >= 3));
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      await withLock(condition, async () => {
        count++;
        await condition.notifyAll();
      });
    }
    expect(await waiting).toBe(true);
  });

  it('acquire and release go to its lock, also with await using', async () => {
    const lock = new Lock();
    const condition = new Condition(lock);
    expect(await condition.acquire({ block: false })).toBe(true);
    expect(await lock.locked()).toBe(true);
    await condition.release();
    {
      await using _held = await condition.hold();
      expect(await lock.locked()).toBe(true);
    }
    expect(await lock.locked()).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { BoundedSemaphore, InvalidArgumentError, Semaphore, ValueError, withLock } from 'fanout';

describe('Semaphore and BoundedSemaphore (public API)', () => {
  it('checks the initial value', () => {
    expect(() => new Semaphore(-1)).toThrow(InvalidArgumentError);
    expect(() => new Semaphore(1.5)).toThrow(/new Semaphore\(value\) must be a whole number in 0\.\.2147483647/);
    expect(() => new BoundedSemaphore(-1)).toThrow(/new BoundedSemaphore\(value\)/);
    expect(new Semaphore()).toBeInstanceOf(Semaphore);
  });

  it('defaults to a value of 1', async () => {
    expect(await new Semaphore().getValue()).toBe(1);
    expect(await new BoundedSemaphore().getValue()).toBe(1);
  });

  it('checks release(n)', async () => {
    const semaphore = new Semaphore(0);
    await expect(semaphore.release(0)).rejects.toThrow(/Semaphore\.release\(n\) must be a whole number ≥ 1/);
    await semaphore.release(3);
    expect(await semaphore.getValue()).toBe(3);
  });

  it('a BoundedSemaphore refuses release(n) that would pass its bound, changing nothing', async () => {
    const semaphore = new BoundedSemaphore(3);
    expect(semaphore).toBeInstanceOf(Semaphore);
    await semaphore.acquire();
    await semaphore.acquire();
    await expect(semaphore.release(3)).rejects.toBeInstanceOf(ValueError);
    expect(await semaphore.getValue()).toBe(1);
    await semaphore.release(2);
    expect(await semaphore.getValue()).toBe(3);
  });

  it('works with withLock and hold', async () => {
    const semaphore = new Semaphore(1);
    expect(await withLock(semaphore, () => semaphore.getValue())).toBe(0);
    {
      await using _unit = await semaphore.hold();
      expect(await semaphore.getValue()).toBe(0);
    }
    expect(await semaphore.getValue()).toBe(1);
  });
});

import { Deadline } from '../../../../lib/backend/Deadline.js';
import { describe, expect, it } from 'vitest';
import { ValueError } from 'fanout';
import { LocalSemaphore } from '../../../../lib/backends/local/LocalSemaphore.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LocalSemaphore', () => {
  it('counts down to zero and back up', () => {
    const semaphore = LocalSemaphore.create(2, undefined);
    expect(semaphore.maxValue).toBeUndefined();
    expect(semaphore.tryAcquire()).toBe(true);
    expect(semaphore.tryAcquire()).toBe(true);
    expect(semaphore.tryAcquire()).toBe(false);
    semaphore.release(3);
    expect(semaphore.getValue()).toBe(3);
  });

  it('release(n) wakes n waiters', async () => {
    const semaphore = LocalSemaphore.create(0, undefined);
    const woken: number[] = [];
    const waits = Array.from({ length: 3 }, (_, i) => semaphore.acquire(Deadline.after(60_000)).then(() => woken.push(i)));
    semaphore.release(2);
    while (woken.length < 2) await pause(2);
    // No third waiter gets through: only two units were given.
    await pause(30);
    expect(woken).toHaveLength(2);
    semaphore.release(1);
    await Promise.all(waits);
    expect(semaphore.getValue()).toBe(0);
  });

  it('a bounded semaphore refuses to pass its bound and changes nothing', () => {
    const semaphore = LocalSemaphore.create(2, 2);
    expect(semaphore.maxValue).toBe(2);
    semaphore.tryAcquire();
    expect(() => semaphore.release(2)).toThrow(ValueError);
    expect(semaphore.getValue()).toBe(1);
    semaphore.release(1);
    expect(() => semaphore.release(1)).toThrow(/released too many times/);
    expect(semaphore.getValue()).toBe(2);
  });

  it('times out when no unit comes', async () => {
    const semaphore = LocalSemaphore.create(0, undefined);
    expect(await semaphore.acquire(Deadline.after(0))).toBe(false);
    expect(await semaphore.acquire(Deadline.after(15))).toBe(false);
  });

  it('re-binds from its handle, bound included', () => {
    const semaphore = LocalSemaphore.create(1, 1);
    const twin = LocalSemaphore.fromHandle(semaphore.handle().attachments!);
    expect(twin.maxValue).toBe(1);
    expect(twin.tryAcquire()).toBe(true);
    expect(semaphore.getValue()).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Lock, RLock, RuntimeError, TimeoutError, ValueError, withLock } from 'fanout';
import { toHandle } from '../../../lib/codec/tags.js';

describe('Lock and RLock (public API)', () => {
  it('checks acquire options, naming the option and what is allowed', async () => {
    const lock = new Lock();
    await expect(lock.acquire({ timeout: '1' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(lock.acquire({ timeout: Infinity })).rejects.toThrow(
      /Lock\.acquire\(options\): timeout must be a finite number of milliseconds/,
    );
    await expect(lock.acquire({ block: 'yes' as never })).rejects.toThrow(/block must be true or false/);
    // Python's rules: a negative timeout counts as zero; a non-blocking acquire ignores its timeout.
    await expect(lock.acquire({ timeout: -1 })).resolves.toBe(true);
    await expect(lock.acquire({ timeout: -1 })).resolves.toBe(false);
    await expect(lock.acquire({ block: false, timeout: 60_000 })).resolves.toBe(false);
    await lock.release();
    await expect(lock.acquire({ block: false, timeout: 5 })).resolves.toBe(true);
    await lock.release();
    await expect(lock.acquire({ wait: true } as never)).rejects.toThrow(/one of the known options \(block, timeout\)/);
    expect(await lock.locked()).toBe(false);
  });

  it('a Lock acquired twice without release does not deadlock a timed acquire', async () => {
    const lock = new Lock();
    expect(await lock.acquire()).toBe(true);
    expect(await lock.acquire({ timeout: 10 })).toBe(false);
    await lock.release();
    await expect(lock.release()).rejects.toBeInstanceOf(ValueError);
  });

  it('an RLock release without acquire is a RuntimeError', async () => {
    await expect(new RLock().release()).rejects.toBeInstanceOf(RuntimeError);
    await expect(new RLock().release()).rejects.toThrow(/un-acquired lock/);
  });

  it('hold() releases once, however often the disposable is disposed', async () => {
    const lock = new RLock();
    const held = await lock.hold();
    await lock.acquire();
    await held[Symbol.asyncDispose]();
    await held[Symbol.asyncDispose]();
    expect(await lock.locked()).toBe(true);
    await lock.release();
    expect(await lock.locked()).toBe(false);
  });

  it('hold() on a busy lock fails with TimeoutError naming the wait', async () => {
    const lock = new Lock();
    await lock.acquire();
    await expect(lock.hold({ timeout: 5 })).rejects.toThrow(new TimeoutError('Could not acquire the Lock within 5 ms.', 5));
    await expect(lock.hold({ block: false })).rejects.toThrow(/held elsewhere/);
  });

  it('withLock returns the function result and checks its arguments', async () => {
    const lock = new Lock();
    expect(await withLock(lock, () => 42)).toBe(42);
    expect(await withLock(lock, async () => 'async')).toBe('async');
    await expect(withLock({} as never, () => 1)).rejects.toThrow(/a Lock, RLock, Semaphore, BoundedSemaphore or Condition/);
    await expect(withLock(lock, 5 as never)).rejects.toThrow(/fn must be a function/);
    await lock.acquire();
    await expect(withLock(lock, () => 1, { timeout: 5 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('describes itself as a handle of its backend kind with its shared memory attached', () => {
    const lock = new Lock();
    const handle = lock[toHandle]();
    expect(handle.kind).toBe('local.lock');
    expect(handle.attachments).toHaveLength(1);
    expect(handle.attachments![0]).toBeInstanceOf(SharedArrayBuffer);
    expect(new RLock()[toHandle]().kind).toBe('local.rlock');
  });
});

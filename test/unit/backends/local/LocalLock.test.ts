import { Deadline } from '../../../../lib/backend/Deadline.js';
import { describe, expect, it } from 'vitest';
import { ProtocolError, RuntimeError, ValueError } from 'fanout';
import { LocalLock } from '../../../../lib/backends/local/LocalLock.js';
import { beginProcessIdentity } from '../../../../lib/runtime/ownerIdentity.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The lock's WAITERS word: sleepers registered now. */
const waiters = (lock: LocalLock) => new Int32Array(lock.buffer)[1];

describe('LocalLock (non-recursive)', () => {
  it('takes a free lock synchronously and refuses a held one', () => {
    const lock = LocalLock.create(false);
    expect(lock.tryAcquire()).toBe(true);
    expect(lock.locked()).toBe(true);
    expect(lock.isMine()).toBe(true);
    expect(lock.tryAcquire()).toBe(false);
    lock.release();
    expect(lock.locked()).toBe(false);
    expect(lock.isMine()).toBe(false);
  });

  it('raises ValueError on release when not locked', () => {
    const lock = LocalLock.create(false);
    expect(() => lock.release()).toThrow(ValueError);
    expect(() => lock.release()).toThrow(/released too many times/);
  });

  it('gives mutual exclusion to many async flows and wakes each waiter', async () => {
    const lock = LocalLock.create(false);
    let inside = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let i = 0; i < 5; i++) {
          expect(await lock.acquire(Deadline.never)).toBe(true);
          inside++;
          most = Math.max(most, inside);
          await pause(0);
          inside--;
          done++;
          lock.release();
        }
      }),
    );
    expect(most).toBe(1);
    expect(done).toBe(100);
    expect(waiters(lock)).toBe(0);
  });

  it('times out while held, and leaves no waiter registered', async () => {
    const lock = LocalLock.create(false);
    lock.tryAcquire();
    expect(await lock.acquire(Deadline.after(0))).toBe(false);
    expect(await lock.acquire(Deadline.after(20))).toBe(false);
    expect(waiters(lock)).toBe(0);
    const later = lock.acquire(Deadline.after(60_000));
    await pause(5);
    expect(waiters(lock)).toBe(1);
    lock.release();
    expect(await later).toBe(true);
    expect(waiters(lock)).toBe(0);
  });

  it('crosses as its buffer: a lock re-bound from a handle is the same lock', () => {
    const lock = LocalLock.create(false);
    const descriptor = lock.handle();
    expect(descriptor.kind).toBe('local.lock');
    const twin = LocalLock.fromHandle(false, descriptor.attachments!);
    lock.tryAcquire();
    expect(twin.locked()).toBe(true);
    twin.release();
    expect(lock.locked()).toBe(false);
  });

  it('refuses a handle that arrived without its shared memory', () => {
    expect(() => LocalLock.fromHandle(false, [])).toThrow(ProtocolError);
    expect(() => LocalLock.fromHandle(false, [new ArrayBuffer(20)])).toThrow(/without its shared memory/);
  });
});

describe('LocalLock (recursive)', () => {
  it('is re-entrant for its owner and counts levels', () => {
    const lock = LocalLock.create(true);
    expect(lock.tryAcquire()).toBe(true);
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
    expect(lock.locked()).toBe(true);
    lock.release();
    expect(lock.locked()).toBe(false);
    expect(() => lock.release()).toThrow(RuntimeError);
  });

  it('releaseAll frees every level and acquireRestore brings them back', async () => {
    const lock = LocalLock.create(true);
    lock.tryAcquire();
    lock.tryAcquire();
    lock.tryAcquire();
    expect(lock.releaseAll()).toBe(3);
    expect(lock.locked()).toBe(false);
    await lock.acquireRestore(3);
    lock.release();
    lock.release();
    expect(lock.locked()).toBe(true);
    lock.release();
    expect(lock.locked()).toBe(false);
  });

  it('belongs to the process identity that took it, not to a new one on the same thread', () => {
    const lock = LocalLock.create(true);
    lock.tryAcquire();
    beginProcessIdentity();
    expect(lock.isMine()).toBe(false);
    expect(lock.tryAcquire()).toBe(false);
    expect(() => lock.release()).toThrow(/not held by this thread/);
  });
});

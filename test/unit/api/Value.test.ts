import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Lock, RLock, RuntimeError, Semaphore, Value, withLock } from 'fanout';
import { toHandle } from '../../../lib/codec/tags.js';

describe('Value (public API)', () => {
  it('starts at zero of its typecode by default', async () => {
    expect(await new Value('i').get()).toBe(0);
    expect(await new Value('q').get()).toBe(0n);
    expect(new Value('d').typecode).toBe('d');
  });

  it('has an RLock by default, the lock given, or none', () => {
    expect(new Value('i', 0).getLock()).toBeInstanceOf(RLock);
    const lock = new Lock();
    expect(new Value('i', 0, { lock }).getLock()).toBe(lock);
    expect(() => new Value('i', 0, { lock: false }).getLock()).toThrow(RuntimeError);
    expect(() => new Value('i', 0, { lock: new Semaphore() as never })).toThrow(/true, false, a Lock or an RLock/);
    expect(() => new Value('i', 0, { locked: true } as never)).toThrow(InvalidArgumentError);
  });

  it('accesses go straight in while this thread holds the lock, even a non-recursive Lock', async () => {
    const value = new Value('i', 1, { lock: new Lock() });
    await withLock(value.getLock(), async () => {
      await value.set((await value.get()) + 1);
      expect(await value.add(10)).toBe(12);
    });
    expect(await value.get()).toBe(12);
  });

  it('add checks its delta and the result', async () => {
    const value = new Value('H', 65530);
    await expect(value.add(1.5)).rejects.toThrow(/a whole number/);
    await expect(value.add(6)).rejects.toThrow(/0\.\.65535/);
    expect(await value.add(-30)).toBe(65500);
  });

  it('crosses as a handle carrying its typecode and its lock', () => {
    const value = new Value('d', 1.5);
    const handle = value[toHandle]();
    expect(handle.kind).toBe('local.value');
    expect(handle.state).toMatchObject({ typecode: 'd', lock: value.getLock() });
    expect(new Value('i', 0, { lock: false })[toHandle]().state).toMatchObject({ lock: null });
  });
});

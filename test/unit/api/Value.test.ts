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

  it('shards: a whole number from 1 to 100, with no lock; locally one cell, adds exact', async () => {
    for (const shards of [0, 101, 1.5, '2', null]) {
      expect(() => new Value('i', 0, { shards: shards as never })).toThrow(/shards.*a whole number from 1 to 100/);
    }
    expect(() => new Value('i', 0, { shards: 4, lock: true })).toThrow(/a sharded Value has no lock/);
    expect(() => new Value('i', 0, { shards: 4, lock: new Lock() })).toThrow(InvalidArgumentError);
    expect(() => new Value('i', 0, { shards: 4, locked: false } as never)).toThrow(/one of the known options \(lock, shards\)/);
    const counter = new Value('i', 5, { shards: 8 });
    expect(() => counter.getLock()).toThrow(RuntimeError);
    for (let i = 0; i < 10; i++) await counter.add(2);
    expect(await counter.get()).toBe(25);
    // One shard is an ordinary Value, with its lock.
    expect(new Value('i', 0, { shards: 1 }).getLock()).toBeInstanceOf(RLock);
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

import { describe, expect, it } from 'vitest';
import { Barrier, InvalidArgumentError, SerializationError } from 'fanout';
import { toHandle } from '../../../lib/codec/tags.js';
import { countAction } from '../../fixtures/syncTasks.js';

describe('Barrier (public API)', () => {
  it('checks parties and options', () => {
    expect(() => new Barrier(0)).toThrow(InvalidArgumentError);
    expect(() => new Barrier(2.5)).toThrow(/new Barrier\(parties\) must be a whole number ≥ 1/);
    expect(() => new Barrier(2, { action: 5 as never })).toThrow(/action must be a function/);
    expect(() => new Barrier(2, { timeout: Number.NaN })).toThrow(/timeout must be a finite number/);
    expect(() => new Barrier(2, { timeout: -1 })).not.toThrow(); // counts as zero, as in Python
    expect(() => new Barrier(2, { parties: 3 } as never)).toThrow(/known options \(action, timeout\)/);
  });

  it('a single party passes at once with index 0, running a plain action', async () => {
    let ran = 0;
    const barrier = new Barrier(1, { action: () => ran++ });
    expect(barrier.parties).toBe(1);
    expect(await barrier.wait()).toBe(0);
    expect(await barrier.wait()).toBe(0);
    expect(ran).toBe(2);
  });

  it('a task action travels by name; a plain function action cannot travel', () => {
    expect(new Barrier(2, { action: countAction })[toHandle]().state).toMatchObject({
      action: { name: 'sync.countAction' },
      timeout: null,
    });
    expect(() => new Barrier(2, { action: () => 1 })[toHandle]()).toThrow(SerializationError);
  });

  it('nWaiting and broken report its state', async () => {
    const barrier = new Barrier(2, { timeout: 5 });
    expect(await barrier.nWaiting()).toBe(0);
    expect(await barrier.broken()).toBe(false);
    await expect(barrier.wait()).rejects.toThrow(/timed out after 5 ms/);
    expect(await barrier.broken()).toBe(true);
    await barrier.reset();
    expect(await barrier.broken()).toBe(false);
  });
});

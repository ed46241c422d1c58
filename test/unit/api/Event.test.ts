import { describe, expect, it } from 'vitest';
import { Event, InvalidArgumentError } from 'fanout';

describe('Event (public API)', () => {
  it('checks the timeout', async () => {
    await expect(new Event().wait('5' as never)).rejects.toThrow(InvalidArgumentError);
    await expect(new Event().wait(-5)).resolves.toBe(false); // counts as zero, as in Python
    await expect(new Event().wait(Number.NaN)).rejects.toThrow(/Event\.wait\(timeout\)/);
  });

  it('wait resolves when another async flow sets it', async () => {
    const event = new Event();
    const waiting = event.wait();
    setTimeout(() => void event.set(), 5);
    expect(await waiting).toBe(true);
  });
});

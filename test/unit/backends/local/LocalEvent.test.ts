import { Deadline } from '../../../../lib/backend/Deadline.js';
import { describe, expect, it } from 'vitest';
import { LocalEvent } from '../../../../lib/backends/local/LocalEvent.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LocalEvent', () => {
  it('wakes every waiter on set', async () => {
    const event = LocalEvent.create();
    const waits = Array.from({ length: 5 }, () => event.wait(Deadline.after(60_000)));
    await pause(5);
    event.set();
    expect(await Promise.all(waits)).toEqual([true, true, true, true, true]);
    expect(event.isSet()).toBe(true);
  });

  it('a waiter woken by set returns true even when clear follows at once', async () => {
    const event = LocalEvent.create();
    const waiting = event.wait(Deadline.after(60_000));
    await pause(5);
    event.set();
    event.clear();
    expect(await waiting).toBe(true);
    expect(event.isSet()).toBe(false);
  });

  it('returns at once when set, and false after the timeout when not', async () => {
    const event = LocalEvent.create();
    expect(await event.wait(Deadline.after(0))).toBe(false);
    expect(await event.wait(Deadline.after(15))).toBe(false);
    event.set();
    expect(await event.wait(Deadline.after(0))).toBe(true);
  });

  it('re-binds from its handle', () => {
    const event = LocalEvent.create();
    const twin = LocalEvent.fromHandle(event.handle().attachments!);
    twin.set();
    expect(event.isSet()).toBe(true);
  });
});

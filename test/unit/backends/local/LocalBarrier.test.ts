import { Deadline } from '../../../../lib/backend/Deadline.js';
import { describe, expect, it } from 'vitest';
import { BrokenBarrierError } from 'fanout';
import { LocalBarrier } from '../../../../lib/backends/local/LocalBarrier.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LocalBarrier', () => {
  it('gives arrival indexes in order and runs the action once, in the last party', async () => {
    const barrier = LocalBarrier.create(3);
    const calls: string[] = [];
    const first = barrier.wait(Deadline.after(60_000), () => calls.push('action by 1st'));
    await pause(5);
    const second = barrier.wait(Deadline.after(60_000), () => calls.push('action by 2nd'));
    await pause(5);
    expect(barrier.nWaiting()).toBe(2);
    const third = barrier.wait(Deadline.after(60_000), () => calls.push('action by 3rd'));
    expect(await Promise.all([first, second, third])).toEqual([0, 1, 2]);
    expect(calls).toEqual(['action by 3rd']);
    expect(barrier.nWaiting()).toBe(0);
  });

  it('breaks on timeout, refuses waits while broken, and works again after reset', async () => {
    const barrier = LocalBarrier.create(2);
    await expect(barrier.wait(Deadline.after(10), undefined)).rejects.toThrow(BrokenBarrierError);
    expect(barrier.broken()).toBe(true);
    await expect(barrier.wait(Deadline.after(60_000), undefined)).rejects.toThrow(/call reset\(\)/);
    await barrier.reset();
    expect(barrier.broken()).toBe(false);
    expect(
      (
        await Promise.all([barrier.wait(Deadline.after(60_000), undefined), barrier.wait(Deadline.after(60_000), undefined)])
      ).sort(),
    ).toEqual([0, 1]);
  });

  it('an async action is awaited before the parties are released', async () => {
    const barrier = LocalBarrier.create(2);
    let finished = false;
    const action = async () => {
      await pause(10);
      finished = true;
    };
    const first = barrier.wait(Deadline.after(60_000), action).then(() => finished);
    const second = barrier.wait(Deadline.after(60_000), action).then(() => finished);
    expect(await Promise.all([first, second])).toEqual([true, true]);
  });

  it('re-binds from its handle (state, lock and condition)', async () => {
    const barrier = LocalBarrier.create(2);
    const twin = LocalBarrier.fromHandle(barrier.handle().attachments!);
    expect(twin.parties).toBe(2);
    expect(
      (await Promise.all([barrier.wait(Deadline.after(60_000), undefined), twin.wait(Deadline.after(60_000), undefined)])).sort(),
    ).toEqual([0, 1]);
  });
});

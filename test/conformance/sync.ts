/**
 * The conformance suite of the synchronisation primitives and shared memory: written once
 * against the public API, run on every backend (`sync.<backend>.test.ts`). Primitives are made
 * from the context under test and used both here and from that context's pool workers.
 */
import { useTarget, type ConformanceTarget } from './ConformanceTarget.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  Condition,
  Event,
  IndexError,
  InvalidArgumentError,
  Lock,
  RLock,
  RuntimeError,
  Semaphore,
  SharedArray,
  TimeoutError,
  Value,
  ValueError,
  withLock,
  type Context,
  type Pool,
} from 'fanout';
import {
  addToItem,
  addToKept,
  arrayAdds,
  atomicAdds,
  barrierWait,
  consumeOne,
  countAction,
  describeArgs,
  echo,
  failingAction,
  holdLockFor,
  holdLockUntil,
  holdSemaphore,
  keepValue,
  lockedIncrements,
  negate,
  notifyAllTask,
  ownLockIncrements,
  readShared,
  releaseHere,
  setEventLater,
  tryAcquire,
  waitEvent,
  waitOnce,
} from '../fixtures/syncTasks.js';

/** Generous: the machine is shared with other test runs. */
const LONG = 120_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `promise` has settled after giving it `ms` ms (never true by accident, only late). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await pause(ms);
  return settled;
}

/** Polls `read` until it returns `expected` (for state reached asynchronously by workers). */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<void> {
  for (;;) {
    if ((await read()) === expected) return;
    await pause(5);
  }
}

export function defineSyncConformance(label: string, target: ConformanceTarget): void {
  let mp: Context;
  const n = useTarget(target, (context) => (mp = context));

  describe(`synchronisation and shared memory (${label})`, () => {
    let pool: Pool;
    beforeAll(() => {
      pool = new mp.Pool(8);
    });
    afterAll(async () => {
      await pool.terminate();
    });

    describe('Lock', () => {
      it('acquires, reports locked, refuses a second acquire without waiting, and releases', async () => {
        const lock = new mp.Lock();
        expect(lock).toBeInstanceOf(Lock);
        expect(await lock.locked()).toBe(false);
        expect(await lock.acquire()).toBe(true);
        expect(await lock.locked()).toBe(true);
        expect(await lock.acquire({ block: false })).toBe(false);
        expect(await lock.acquire({ timeout: 20 })).toBe(false);
        await lock.release();
        expect(await lock.locked()).toBe(false);
        expect(await lock.acquire({ block: false })).toBe(true);
        await lock.release();
      });

      it('raises ValueError when released while not locked', async () => {
        const lock = new mp.Lock();
        await expect(lock.release()).rejects.toBeInstanceOf(ValueError);
        await expect(lock.release()).rejects.toMatchObject({ code: 'ERR_VALUE' });
      });

      it('waits without blocking the event loop until a worker releases it', async () => {
        const lock = new mp.Lock();
        const held = new mp.Event();
        const letGo = new mp.Event();
        const holding = pool.apply(holdLockUntil, [lock, held, letGo]);
        expect(await held.wait(LONG)).toBe(true);
        expect(await lock.acquire({ block: false })).toBe(false);
        const acquiring = lock.acquire({ timeout: LONG });
        // The event loop keeps running while the acquire waits: this timer fires before it ends.
        await pause(10);
        expect(await settledWithin(acquiring, 0)).toBe(false);
        await letGo.set();
        expect(await acquiring).toBe(true);
        await holding;
        await lock.release();
      });

      it('times out in a worker while held here, and may be released by another thread', async () => {
        const lock = new mp.Lock();
        await lock.acquire();
        expect(await pool.apply(tryAcquire, [lock, 30])).toBe(false);
        expect(await pool.apply(releaseHere, [lock])).toBe('released');
        expect(await lock.locked()).toBe(false);
      });

      it('is held with await using and released at the end of the block', async () => {
        const lock = new mp.Lock();
        {
          await using _held = await lock.hold();
          expect(await lock.locked()).toBe(true);
          await expect(lock.hold({ timeout: 10 })).rejects.toBeInstanceOf(TimeoutError);
          await expect(lock.hold({ block: false })).rejects.toBeInstanceOf(TimeoutError);
        }
        expect(await lock.locked()).toBe(false);
      });

      it('withLock runs the function holding the lock and releases it when the function throws', async () => {
        const lock = new mp.Lock();
        expect(await withLock(lock, async () => lock.locked())).toBe(true);
        await expect(
          withLock(lock, () => {
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await lock.locked()).toBe(false);
      });
    });

    describe('RLock', () => {
      it('is re-entrant for its owner and must be released as many times', async () => {
        const lock = new mp.RLock();
        expect(lock).toBeInstanceOf(RLock);
        expect(await lock.acquire()).toBe(true);
        expect(await lock.acquire({ block: false })).toBe(true);
        await lock.release();
        expect(await pool.apply(tryAcquire, [lock, 20])).toBe(false);
        await lock.release();
        expect(await pool.apply(tryAcquire, [lock, LONG])).toBe(true);
        await expect(lock.release()).rejects.toBeInstanceOf(RuntimeError);
      });

      it('refuses a release by a thread that does not own it (RuntimeError)', async () => {
        const lock = new mp.RLock();
        await lock.acquire();
        expect(await pool.apply(releaseHere, [lock])).toBe('ERR_RUNTIME');
        expect(await lock.locked()).toBe(true);
        await lock.release();
      });
    });

    describe('Semaphore and BoundedSemaphore', () => {
      it('counts: acquires down to zero, then refuses until released', async () => {
        const semaphore = new mp.Semaphore(2);
        expect(semaphore).toBeInstanceOf(Semaphore);
        expect(await semaphore.acquire()).toBe(true);
        expect(await semaphore.acquire({ block: false })).toBe(true);
        expect(await semaphore.getValue()).toBe(0);
        expect(await semaphore.acquire({ block: false })).toBe(false);
        expect(await semaphore.acquire({ timeout: 20 })).toBe(false);
        await semaphore.release();
        expect(await semaphore.acquire({ timeout: LONG })).toBe(true);
        await semaphore.release(2);
        expect(await semaphore.getValue()).toBe(2);
        // An unbounded semaphore may be released past its initial value, as in Python.
        await semaphore.release();
        expect(await semaphore.getValue()).toBe(3);
      });

      it('BoundedSemaphore refuses an over-release with ValueError and keeps its value', async () => {
        const semaphore = new mp.BoundedSemaphore(2);
        expect(semaphore).toBeInstanceOf(BoundedSemaphore);
        await semaphore.acquire();
        await semaphore.release();
        await expect(semaphore.release()).rejects.toBeInstanceOf(ValueError);
        expect(await semaphore.getValue()).toBe(2);
        expect(await pool.apply(releaseHere, [semaphore])).toBe('ERR_VALUE');
      });

      it('never lets more than its value hold it at once across workers', async () => {
        const semaphore = new mp.BoundedSemaphore(3);
        const active = new mp.Value('i', 0);
        const peak = new mp.Value('i', 0);
        await Promise.all(Array.from({ length: 16 }, () => pool.apply(holdSemaphore, [semaphore, active, peak, 20])));
        expect(await peak.get()).toBeGreaterThanOrEqual(1);
        expect(await peak.get()).toBeLessThanOrEqual(3);
        expect(await active.get()).toBe(0);
        expect(await semaphore.getValue()).toBe(3);
      });
    });

    describe('Event', () => {
      it('sets, clears and reports its flag; wait times out while clear', async () => {
        const event = new mp.Event();
        expect(event).toBeInstanceOf(Event);
        expect(await event.isSet()).toBe(false);
        expect(await event.wait(20)).toBe(false);
        expect(await event.wait(0)).toBe(false);
        await event.set();
        expect(await event.isSet()).toBe(true);
        expect(await event.wait()).toBe(true);
        await event.clear();
        expect(await event.isSet()).toBe(false);
      });

      it('wakes waiters in workers and here', async () => {
        const event = new mp.Event();
        const waiters = [pool.apply(waitEvent, [event, LONG]), pool.apply(waitEvent, [event, LONG])];
        const waitingHere = event.wait(LONG);
        await pool.apply(setEventLater, [event, 50]);
        expect(await Promise.all([...waiters, waitingHere])).toEqual([true, true, true]);
      });

      it('times out in a worker when never set', async () => {
        expect(await pool.apply(waitEvent, [new mp.Event(), 30])).toBe(false);
      });
    });

    describe('Condition', () => {
      it('requires the lock for wait and notify (RuntimeError)', async () => {
        const condition = new mp.Condition();
        expect(condition).toBeInstanceOf(Condition);
        await expect(condition.wait(10)).rejects.toBeInstanceOf(RuntimeError);
        await expect(condition.notify()).rejects.toBeInstanceOf(RuntimeError);
        await expect(condition.notifyAll()).rejects.toBeInstanceOf(RuntimeError);
      });

      it('wait times out with false and holds the lock again afterwards', async () => {
        const lock = new mp.Lock();
        const condition = new mp.Condition(lock);
        expect(condition.getLock()).toBe(lock);
        await condition.acquire();
        expect(await condition.wait(20)).toBe(false);
        expect(await lock.locked()).toBe(true);
        await condition.release();
        expect(await lock.locked()).toBe(false);
      });

      it('notify(1) wakes one waiter, notifyAll the rest', async () => {
        const condition = new mp.Condition();
        const waiting = new mp.Semaphore(0);
        const waiters = Array.from({ length: 3 }, () => pool.apply(waitOnce, [condition, waiting, LONG]));
        for (let i = 0; i < 3; i++) expect(await waiting.acquire({ timeout: LONG })).toBe(true);
        // Every waiter has released `waiting` while holding the lock, so once we hold it, all wait.
        await withLock(condition, () => condition.notify(1));
        const first = await Promise.race(waiters.map((waiter, index) => waiter.then(() => index)));
        expect(await waiters[first]).toBe(true);
        const others = waiters.filter((_, index) => index !== first);
        expect(await settledWithin(Promise.race(others), 200)).toBe(false);
        await withLock(condition, () => condition.notifyAll());
        expect(await Promise.all(others)).toEqual([true, true]);
      });

      it('waitFor hands items from a producer here to consumers in workers', async () => {
        const condition = new mp.Condition();
        const items = new mp.Value('i', 0);
        const taken = new mp.Value('i', 0);
        const consumers = Array.from({ length: 4 }, () => pool.apply(consumeOne, [condition, items, taken, LONG]));
        for (let i = 0; i < 4; i++) {
          await withLock(condition, async () => {
            await items.add(1);
            await condition.notify();
          });
          await pause(5);
        }
        expect(await Promise.all(consumers)).toEqual([true, true, true, true]);
        expect(await taken.get()).toBe(4);
        expect(await items.get()).toBe(0);
      });

      it('waitFor returns the falsy predicate result when the time is up', async () => {
        const condition = new mp.Condition();
        await withLock(condition, async () => {
          expect(await condition.waitFor(() => 0, 20)).toBe(0);
          expect(await condition.waitFor(() => 'ready', 0)).toBe('ready');
        });
      });

      it('releases every level of an RLock while waiting and restores them', async () => {
        const lock = new mp.RLock();
        const condition = new mp.Condition(lock);
        await lock.acquire();
        await lock.acquire();
        const waited = condition.wait(LONG);
        // While we wait, a worker can take the lock: it was released completely.
        expect(await pool.apply(tryAcquire, [lock, LONG])).toBe(true);
        await pool.apply(holdLockFor, [lock, new mp.Event(), 0]);
        expect(await settledWithin(waited, 20)).toBe(false);
        await pool.apply(notifyAllTask, [condition]);
        expect(await waited).toBe(true);
        // Both levels are held again: two releases, and a third is refused.
        expect(await pool.apply(tryAcquire, [lock, 20])).toBe(false);
        await lock.release();
        await lock.release();
        await expect(lock.release()).rejects.toBeInstanceOf(RuntimeError);
      });
    });

    describe('Barrier', () => {
      it('releases all parties together with distinct arrival indexes, and runs the action once', async () => {
        const barrier = new mp.Barrier(3, { action: countAction });
        expect(barrier).toBeInstanceOf(Barrier);
        expect(barrier.parties).toBe(3);
        const results = (await Promise.all(Array.from({ length: 3 }, () => pool.apply(barrierWait, [barrier, LONG])))) as Array<{
          index: number;
          actionRanHere: boolean;
        }>;
        expect(results.map((r) => r.index).sort()).toEqual([0, 1, 2]);
        // The action ran in the last party to arrive (its thread counted it before releasing).
        expect(results.find((r) => r.index === 2)!.actionRanHere).toBe(true);
        expect(await barrier.broken()).toBe(false);
        expect(await barrier.nWaiting()).toBe(0);
      });

      it('can be used for several rounds', async () => {
        const barrier = new mp.Barrier(2);
        for (let round = 0; round < 3; round++) {
          const [here, there] = await Promise.all([barrier.wait(LONG), pool.apply(barrierWait, [barrier, LONG])]);
          expect([here, (there as { index: number }).index].sort()).toEqual([0, 1]);
        }
      });

      it('breaks when a party times out; every waiter gets BrokenBarrierError until reset', async () => {
        const barrier = new mp.Barrier(3);
        const results = await Promise.all([pool.apply(barrierWait, [barrier, 100]), pool.apply(barrierWait, [barrier, LONG])]);
        expect(results).toEqual([{ error: 'ERR_BROKEN_BARRIER' }, { error: 'ERR_BROKEN_BARRIER' }]);
        expect(await barrier.broken()).toBe(true);
        await expect(barrier.wait(LONG)).rejects.toBeInstanceOf(BrokenBarrierError);
        await barrier.reset();
        expect(await barrier.broken()).toBe(false);
        const again = await Promise.all([barrier.wait(LONG), barrier.wait(LONG), barrier.wait(LONG)]);
        expect(again.sort()).toEqual([0, 1, 2]);
      });

      it('uses its default timeout', async () => {
        const barrier = new mp.Barrier(2, { timeout: 30 });
        await expect(barrier.wait()).rejects.toBeInstanceOf(BrokenBarrierError);
        expect(await barrier.broken()).toBe(true);
      });

      it('abort wakes waiting parties with BrokenBarrierError; reset makes it usable again', async () => {
        const barrier = new mp.Barrier(3);
        const waiter = pool.apply(barrierWait, [barrier, LONG]);
        await eventually(() => barrier.nWaiting(), 1);
        await barrier.abort();
        expect(await waiter).toEqual({ error: 'ERR_BROKEN_BARRIER' });
        await expect(barrier.wait(LONG)).rejects.toBeInstanceOf(BrokenBarrierError);
        await barrier.reset();
        const done = await Promise.all([barrier.wait(LONG), barrier.wait(LONG), pool.apply(barrierWait, [barrier, LONG])]);
        expect(done.length).toBe(3);
      });

      it('reset while parties wait breaks their wait', async () => {
        const barrier = new mp.Barrier(2);
        const waiting = barrier.wait(LONG).catch((error: unknown) => error);
        await eventually(() => barrier.nWaiting(), 1);
        await barrier.reset();
        expect(await waiting).toBeInstanceOf(BrokenBarrierError);
        expect(await barrier.broken()).toBe(false);
        expect(await Promise.all([barrier.wait(LONG), barrier.wait(LONG)])).toHaveLength(2);
      });

      it('a failing action fails the last party with its error and breaks the barrier for the others', async () => {
        const barrier = new mp.Barrier(2, { action: failingAction });
        const first = pool.apply(barrierWait, [barrier, LONG]);
        await eventually(() => barrier.nWaiting(), 1);
        // This thread arrives last, so the action runs here.
        await expect(barrier.wait(LONG)).rejects.toThrow('the barrier action failed');
        expect(await first).toEqual({ error: 'ERR_BROKEN_BARRIER' });
        expect(await barrier.broken()).toBe(true);
      });

      it('an action task runs in the worker that arrives last', async () => {
        const barrier = new mp.Barrier(2, { action: failingAction });
        const waiting = barrier.wait(LONG).catch((error: unknown) => error);
        await eventually(() => barrier.nWaiting(), 1);
        expect(await pool.apply(barrierWait, [barrier, LONG])).toEqual({ error: 'Error: the barrier action failed' });
        expect(await waiting).toBeInstanceOf(BrokenBarrierError);
      });
    });

    describe('Value', () => {
      it('holds a number of its typecode, set and read from workers', async () => {
        const num = new mp.Value('d', 0);
        const arr = new mp.Array('i', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(num).toBeInstanceOf(Value);
        expect(arr).toBeInstanceOf(SharedArray);
        await pool.apply(negate, [num, arr]);
        expect(await num.get()).toBe(3.1415927);
        expect(await arr.toArray()).toEqual([0, -1, -2, -3, -4, -5, -6, -7, -8, -9]);
        expect(await pool.apply(readShared, [num, arr])).toEqual({
          value: 3.1415927,
          array: [0, -1, -2, -3, -4, -5, -6, -7, -8, -9],
          typecode: 'd',
          length: 10,
        });
      });

      it('refuses values of the wrong type or out of range, naming the typecode and range', async () => {
        expect(() => new mp.Value('B', 256)).toThrow(InvalidArgumentError);
        expect(() => new mp.Value('B', 256)).toThrow(/typecode 'B'.*0\.\.255/);
        expect(() => new mp.Value('x' as 'i', 0)).toThrow(/typecodes/);
        const big = new mp.Value('q', 2n ** 63n - 1n);
        expect(await big.get()).toBe(2n ** 63n - 1n);
        await expect(big.set(1 as never)).rejects.toThrow(/bigint/);
        await expect(big.add(1n)).rejects.toThrow(InvalidArgumentError);
        expect(await big.get()).toBe(2n ** 63n - 1n);
        const small = new mp.Value('i', 0);
        await expect(small.set(1.5)).rejects.toThrow(InvalidArgumentError);
        await expect(small.set('1' as never)).rejects.toThrow(/typecode 'i'/);
        expect(await small.add(-5)).toBe(-5);
      });

      it("each access waits while another thread holds the Value's lock, as Python's synchronized wrapper", async () => {
        const value = new mp.Value('i', 0);
        const held = new mp.Event();
        const letGo = new mp.Event();
        const holding = pool.apply(holdLockUntil, [value.getLock(), held, letGo]);
        expect(await held.wait(LONG)).toBe(true);
        const setting = value.set(5);
        expect(await settledWithin(setting, 20)).toBe(false);
        await letGo.set();
        await setting;
        await holding;
        expect(await value.get()).toBe(5);
      });

      it(
        '8 workers × n locked increments end at exactly 8n (n = 10,000 locally)',
        async () => {
          const lock = new mp.Lock();
          const counter = new mp.Value('i', 0);
          await Promise.all(Array.from({ length: 8 }, () => pool.apply(lockedIncrements, [lock, counter, n(10_000)])));
          expect(await counter.get()).toBe(8 * n(10_000));
        },
        LONG,
      );

      it(
        "8 workers × n increments under the Value's own lock end at exactly 8n (n = 10,000 locally)",
        async () => {
          const counter = new mp.Value('i', 0);
          await Promise.all(Array.from({ length: 8 }, () => pool.apply(ownLockIncrements, [counter, n(10_000)])));
          expect(await counter.get()).toBe(8 * n(10_000));
        },
        LONG,
      );

      it(
        'unlocked atomic add from many workers never loses an update (integers, bigints and floats)',
        async () => {
          const ints = new mp.Value('i', 0, { lock: false });
          const bigs = new mp.Value('Q', 0n, { lock: false });
          const floats = new mp.Value('d', 0, { lock: false });
          const singles = new mp.Value('f', 0, { lock: false });
          await Promise.all(
            Array.from({ length: 8 }, () => [
              pool.apply(atomicAdds, [ints, n(10_000), 1]),
              pool.apply(atomicAdds, [bigs, n(10_000), 3n]),
              pool.apply(atomicAdds, [floats, n(10_000), 0.5]),
              pool.apply(atomicAdds, [singles, n(1_000), 0.25]),
            ]).flat(),
          );
          expect(await ints.get()).toBe(8 * n(10_000));
          expect(await bigs.get()).toBe(BigInt(24 * n(10_000)));
          expect(await floats.get()).toBe(4 * n(10_000));
          expect(await singles.get()).toBe(2 * n(1_000));
          expect(() => ints.getLock()).toThrow(RuntimeError);
        },
        LONG,
      );
    });

    describe('SharedArray', () => {
      it('gets, sets and lists elements, with negative indexes from the end', async () => {
        const array = new mp.SharedArray('h', 4);
        expect(array.length).toBe(4);
        expect(array.typecode).toBe('h');
        expect(await array.toArray()).toEqual([0, 0, 0, 0]);
        await array.set(0, 7);
        await array.set(-1, -32768);
        expect(await array.get(0)).toBe(7);
        expect(await array.get(3)).toBe(-32768);
        expect(await array.get(-4)).toBe(7);
        expect(await array.toArray()).toEqual([7, 0, 0, -32768]);
      });

      it('raises IndexError for an index out of range and refuses bad values', async () => {
        const array = new mp.SharedArray('i', [1, 2, 3]);
        await expect(array.get(3)).rejects.toBeInstanceOf(IndexError);
        await expect(array.get(-4)).rejects.toMatchObject({ code: 'ERR_INDEX', index: -4, length: 3 });
        await expect(array.set(5, 1)).rejects.toBeInstanceOf(IndexError);
        await expect(array.get(1.5)).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(array.set(0, 2 ** 31)).rejects.toThrow(/-2147483648\.\.2147483647/);
        expect(() => new mp.SharedArray('i', [1, 'two' as never])).toThrow(/item 1/);
        expect(await array.toArray()).toEqual([1, 2, 3]);
      });

      it(
        'atomic adds from many workers to every element are never lost',
        async () => {
          const array = new mp.SharedArray('I', 4, { lock: false });
          await Promise.all(Array.from({ length: 8 }, () => pool.apply(arrayAdds, [array, n(1_000)])));
          expect(await array.toArray()).toEqual(Array(4).fill(8 * n(1_000)));
        },
        LONG,
      );
    });

    describe('handles', () => {
      it('every primitive arrives in a worker as its own class', async () => {
        const lock = new mp.RLock();
        const primitives = [
          new mp.Lock(),
          lock,
          new mp.Semaphore(1),
          new mp.BoundedSemaphore(1),
          new mp.Event(),
          new mp.Condition(lock),
          new mp.Barrier(2),
          new mp.Value('i', 1),
          new mp.SharedArray('d', 2),
        ];
        expect(await pool.apply(describeArgs, primitives)).toEqual([
          'Lock',
          'RLock',
          'Semaphore',
          'BoundedSemaphore',
          'Event',
          'Condition',
          'Barrier',
          'Value',
          'SharedArray',
        ]);
      });

      it('a primitive sent back from a worker is still the same object underneath', async () => {
        const lock = new mp.Lock();
        const value = new mp.Value('i', 41);
        const [lockBack, valueBack] = (await Promise.all([pool.apply(echo, [lock]), pool.apply(echo, [value])])) as [
          Lock,
          Value<'i'>,
        ];
        await lockBack.acquire();
        expect(await lock.locked()).toBe(true);
        await lock.release();
        await valueBack.add(1);
        expect(await value.get()).toBe(42);
      });

      it('primitives travel in map items and in a pool initializer', async () => {
        const counter = new mp.Value('i', 0);
        const results = await pool.map(
          addToItem,
          Array.from({ length: 200 }, () => ({ value: counter })),
          { chunksize: 7 },
        );
        expect(results.length).toBe(200);
        expect(await counter.get()).toBe(200);
        const kept = new mp.Value('i', 0);
        const initialized = new mp.Pool({ processes: 2, initializer: keepValue, initargs: [kept] });
        try {
          await Promise.all(Array.from({ length: 10 }, (_, i) => initialized.apply(addToKept, [i + 1])));
        } finally {
          await initialized.terminate();
        }
        expect(await kept.get()).toBe(55);
      });

      it('a barrier whose action is a plain function cannot cross to a worker', async () => {
        const barrier = new mp.Barrier(2, { action: () => undefined });
        await expect(pool.apply(barrierWait, [barrier, 10])).rejects.toThrow(/task\(name, fn\)/);
      });
    });
  });
}

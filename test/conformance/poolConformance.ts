/**
 * The Pool conformance suite: Python's Pool semantics through the public API only, run
 * unchanged on every backend (see local.test.ts; the aws backend runs it on the emulators).
 */
import type { ConformanceTarget } from './ConformanceTarget.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AsyncResult,
  InvalidArgumentError,
  PoolClosedError,
  RemoteError,
  SerializationError,
  TimeoutError,
  ValueError,
  type Context,
  type Pool,
} from 'fanout';
import {
  add,
  addOne,
  delayed,
  echo,
  failIfNegative,
  remember,
  recall,
  returnFunction,
  sleep,
  square,
  throwString,
} from '../fixtures/tasks.js';

export type { ConformanceTarget };

function* naturals(limit: number): Generator<number> {
  for (let i = 0; i < limit; i++) yield i;
}

async function* slowNaturals(limit: number): AsyncGenerator<number> {
  for (let i = 0; i < limit; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    yield i;
  }
}

/**
 * Defines the Pool conformance tests for a backend.
 *
 * @example
 * ```ts
 * definePoolConformance('local', { context: () => getContext('local') });
 * ```
 */
export function definePoolConformance(label: string, target: ConformanceTarget): void {
  describe(`Pool conformance (${label})`, () => {
    let context: Context;
    let pool: Pool;

    beforeAll(async () => {
      await target.setup?.();
      context = target.context();
      pool = new context.Pool(2);
      // Python's Pool starts its workers in the constructor; ours start on first use. Start
      // them here, so that the seed's 1 s timeout measures the call, not the start-up.
      await pool.map(square, [0, 1, 2, 3]);
    });

    afterAll(async () => {
      await pool?.terminate();
      await target.teardown?.();
    });

    describe('the seed examples', () => {
      it('applyAsync(f, [10]).get(1000) is 100', async () => {
        const result = pool.applyAsync(square, [10]);
        expect(await result.get(1000)).toBe(100);
      });

      it('map(f, range(10)) is the squares, in order', async () => {
        expect(await pool.map(square, naturals(10))).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
      });
    });

    describe('apply and applyAsync', () => {
      it('apply resolves to the result', async () => {
        expect(await pool.apply(add, [2, 3])).toBe(5);
      });

      it('apply with no arguments array passes none', async () => {
        expect(await pool.apply(recall)).toBeUndefined();
      });

      it('runs async tasks', async () => {
        expect(await pool.apply(sleep, [5])).toBe(5);
      });

      it('AsyncResult reports ready and successful, and is awaitable', async () => {
        const result = pool.applyAsync(square, [7]);
        expect(result).toBeInstanceOf(AsyncResult);
        expect(() => result.successful()).toThrow(ValueError);
        expect(await result).toBe(49);
        expect(result.ready()).toBe(true);
        expect(result.successful()).toBe(true);
        expect(await result.wait(0)).toBe(true);
      });

      it('get(timeout) raises TimeoutError and leaves the work running', async () => {
        const result = pool.applyAsync(sleep, [300]);
        await expect(result.get(10)).rejects.toBeInstanceOf(TimeoutError);
        expect(result.ready()).toBe(false);
        expect(await result.wait(10)).toBe(false);
        expect(await result.get()).toBe(300);
      });

      it('calls callback with the value and errorCallback with the error', async () => {
        const values: number[] = [];
        const errors: Error[] = [];
        const ok = pool.applyAsync(square, [4], { callback: (v) => values.push(v), errorCallback: (e) => errors.push(e) });
        const bad = pool.applyAsync(failIfNegative, [-1], {
          callback: () => values.push(-1),
          errorCallback: (e) => errors.push(e),
        });
        await ok.wait();
        await bad.wait();
        expect(values).toEqual([16]);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(RemoteError);
        expect(bad.successful()).toBe(false);
      });

      it('many calls in flight all resolve to their own results', async () => {
        const results = Array.from({ length: 2000 }, (_, i) => pool.applyAsync(add, [i, 1]));
        const values = await Promise.all(results.map((r) => r.get()));
        expect(values).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
      });

      it('calls of different tasks in the same tick each get their own result', async () => {
        const [a, b, c] = [pool.applyAsync(square, [3]), pool.applyAsync(addOne, [3]), pool.applyAsync(add, [3, 4])];
        expect([await a, await b, await c]).toEqual([9, 4, 7]);
      });
    });

    describe('map, starmap and their async forms', () => {
      it('map keeps input order across chunks', async () => {
        const items = Array.from({ length: 1000 }, (_, i) => i);
        expect(await pool.map(addOne, items, { chunksize: 7 })).toEqual(items.map((x) => x + 1));
      });

      it('map of nothing is an empty array', async () => {
        expect(await pool.map(square, [])).toEqual([]);
      });

      it('map keeps order when items finish out of order', async () => {
        const items = [40, 1, 30, 2, 20, 3];
        expect(
          await pool.starmap(
            delayed,
            items.map((ms, i) => [i, ms] as [number, number]),
            { chunksize: 1 },
          ),
        ).toEqual([0, 1, 2, 3, 4, 5]);
      });

      it('starmap spreads each item as arguments', async () => {
        expect(
          await pool.starmap(add, [
            [1, 2],
            [3, 4],
          ]),
        ).toEqual([3, 7]);
      });

      it('mapAsync and starmapAsync return AsyncResults with callbacks', async () => {
        let seen: number[] = [];
        const result = pool.mapAsync(square, [1, 2, 3], { callback: (values) => (seen = values) });
        expect(await result.get(5000)).toEqual([1, 4, 9]);
        expect(seen).toEqual([1, 4, 9]);
        expect(await pool.starmapAsync(add, [[5, 5]]).get()).toEqual([10]);
      });

      it('map carries rich values both ways', async () => {
        const value = {
          date: new Date(0),
          map: new Map<unknown, unknown>([[1, { nested: [1n, undefined, null] }]]),
          set: new Set(['a']),
          bytes: new Uint8Array([1, 2, 3]),
          text: 'héllo ✓',
          nan: NaN,
          negativeZero: -0,
        };
        const [back] = await pool.map(echo, [value]);
        expect(back).toEqual(value);
        expect(Object.is((back as typeof value).negativeZero, -0)).toBe(true);
      });
    });

    describe('imap and imapUnordered', () => {
      it('imap yields results in input order, lazily', async () => {
        const out: number[] = [];
        for await (const value of pool.imap(square, naturals(200))) out.push(value);
        expect(out).toEqual(Array.from({ length: 200 }, (_, i) => i * i));
      });

      it('imap accepts async iterables', async () => {
        const out: number[] = [];
        for await (const value of pool.imap(addOne, slowNaturals(20))) out.push(value);
        expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      });

      it('imap hands out results while a slow async input is still being read', async () => {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        async function* gated(): AsyncGenerator<number> {
          yield 3;
          await gate; // the next item comes only after the first result was received
          yield 4;
        }
        const out: number[] = [];
        for await (const value of pool.imap(square, gated())) {
          out.push(value);
          if (out.length === 1) release();
        }
        expect(out).toEqual([9, 16]);
      });

      it('imapUnordered yields every result once', async () => {
        const out: number[] = [];
        for await (const value of pool.imapUnordered(square, naturals(300), { chunksize: 4 })) out.push(value);
        expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i * i));
      });

      it('imap does not read the input far ahead of the consumer', async () => {
        let produced = 0;
        function* counting(): Generator<number> {
          for (let i = 0; ; i++) {
            produced++;
            yield i;
          }
        }
        const out: number[] = [];
        for await (const value of pool.imap(square, counting(), { chunksize: 1 })) {
          out.push(value);
          if (out.length === 10) break;
        }
        expect(out).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
        expect(produced).toBeLessThan(40);
      });

      it('imap raises a failed item at its position', async () => {
        const out: number[] = [];
        await expect(async () => {
          for await (const value of pool.imap(failIfNegative, [1, 2, -3, 4], { chunksize: 1 })) out.push(value);
        }).rejects.toBeInstanceOf(RemoteError);
        expect(out).toEqual([1, 2]);
      });

      it('imap passes on an error from the input iterable', async () => {
        function* broken(): Generator<number> {
          yield 1;
          throw new Error('input broke');
        }
        await expect(async () => {
          for await (const _ of pool.imap(square, broken())) void _;
        }).rejects.toThrow('input broke');
      });
    });

    describe('failures', () => {
      it('a task that throws gives RemoteError with the remote name, message, stack and properties', async () => {
        const error = await pool.apply(failIfNegative, [-5]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RemoteError);
        const remote = error as RemoteError;
        expect(remote.code).toBe('ERR_REMOTE');
        expect(remote.remoteName).toBe('ValidationError');
        expect(remote.remoteMessage).toBe('negative input -5');
        expect(remote.remoteStack).toContain('fixtures/tasks.ts');
        expect(remote.remoteProperties).toMatchObject({ code: 'E_VALIDATION' });
        expect(remote.taskName).toBe('failIfNegative');
        expect(remote.message).toContain("Task 'failIfNegative' failed");
      });

      it('the pool keeps working after a task throws', async () => {
        await expect(pool.apply(failIfNegative, [-1])).rejects.toBeInstanceOf(RemoteError);
        expect(await pool.apply(square, [3])).toBe(9);
      });

      it('a thrown non-error is reported too', async () => {
        const error = (await pool.apply(throwString).catch((e: unknown) => e)) as RemoteError;
        expect(error).toBeInstanceOf(RemoteError);
        expect(error.remoteMessage).toBe('a plain string');
      });

      it('map fails with the failing item’s error', async () => {
        await expect(pool.map(failIfNegative, [1, 2, -3, 4])).rejects.toMatchObject({ remoteMessage: 'negative input -3' });
      });

      it('an argument that cannot be sent fails at submit time, naming it', () => {
        expect(() => pool.applyAsync(echo, [() => 1])).toThrow(SerializationError);
        expect(() => pool.applyAsync(echo, [{ deep: [1, Symbol('s')] }])).toThrow(/argument|\.deep\[1\]/);
        try {
          pool.applyAsync(echo, [{ deep: { fn: function named() {} } }]);
          expect.unreachable();
        } catch (error) {
          expect((error as SerializationError).path).toBe('the arguments[0].deep.fn');
          expect((error as SerializationError).message).toContain("'named'");
        }
      });

      it('a map item that cannot be sent rejects the map, naming the item', async () => {
        const error = (await pool.map(echo, [1, 2, new WeakMap()]).catch((e: unknown) => e)) as SerializationError;
        expect(error).toBeInstanceOf(SerializationError);
        expect(error.path).toBe('item 2');
      });

      it('a result that cannot be sent back is a SerializationError', async () => {
        const error = (await pool.apply(returnFunction).catch((e: unknown) => e)) as SerializationError;
        expect(error).toBeInstanceOf(SerializationError);
        expect(error.message).toContain("the result of task 'returnFunction'");
      });

      it('a plain function in place of a task is refused with advice', () => {
        expect(() => pool.applyAsync(((x: number) => x) as never, [1] as never)).toThrow(/task\(name, fn\)/);
      });

      it('bad call options are refused, naming the option', async () => {
        await expect(pool.map(square, [1], { chunksize: 0 })).rejects.toThrow(
          /chunksize must be a whole number ≥ 1; got 0 \(number\)/,
        );
        await expect(pool.map(square, [1], { timeout: Number.NaN })).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(pool.map(square, [1], { chunkSize: 2 } as never)).rejects.toThrow(/chunkSize/);
        await expect(pool.map(square, 5 as never)).rejects.toThrow(/items must be an iterable/);
        expect(() => pool.applyAsync(square, 3 as never)).toThrow(/args must be an array/);
      });
    });

    describe('timeouts and cancellation', () => {
      it('a call timeout rejects with TimeoutError', async () => {
        const error = await pool.apply(sleep, [5000], { timeout: 50 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TimeoutError);
        expect(await pool.apply(square, [2])).toBe(4);
      });

      it('an AbortSignal cancels a map', async () => {
        const controller = new AbortController();
        const running = pool.map(sleep, [3000, 3000, 3000, 3000], { signal: controller.signal, chunksize: 1 });
        setTimeout(() => controller.abort(new Error('stop now')), 30);
        await expect(running).rejects.toThrow('stop now');
        expect(await pool.apply(square, [5])).toBe(25);
      });

      it('an already aborted signal fails at once', async () => {
        await expect(pool.apply(square, [1], { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      });

      it('an AbortSignal ends an imap', async () => {
        const controller = new AbortController();
        const out: number[] = [];
        await expect(async () => {
          for await (const value of pool.imap(square, naturals(1_000_000), { signal: controller.signal, chunksize: 1 })) {
            out.push(value);
            if (out.length === 5) controller.abort();
          }
        }).rejects.toMatchObject({ name: 'AbortError' });
        expect(out).toHaveLength(5);
      });
    });

    describe('lifecycle', () => {
      it('initializer runs with initargs in every worker before tasks', async () => {
        const initialized = new context.Pool({ processes: 2, initializer: remember, initargs: ['ready'] });
        try {
          expect(await initialized.map(recall, [1, 2, 3, 4])).toEqual(['ready', 'ready', 'ready', 'ready']);
        } finally {
          await initialized.terminate();
        }
      });

      it('close refuses new work, runs what was submitted; join waits', async () => {
        const closing = new context.Pool(2);
        const pending = closing.applyAsync(sleep, [50]);
        closing.close();
        expect(() => closing.applyAsync(square, [1])).toThrow(PoolClosedError);
        await expect(closing.map(square, [1])).rejects.toBeInstanceOf(PoolClosedError);
        await closing.join();
        expect(await pending.get(0)).toBe(50);
      });

      it('close during an imap lets it finish all its items, then join returns', async () => {
        const closing = new context.Pool(2);
        const out: number[] = [];
        for await (const value of closing.imap(square, naturals(300), { chunksize: 7 })) {
          out.push(value);
          if (out.length === 10) closing.close();
        }
        expect(out).toEqual(Array.from({ length: 300 }, (_, i) => i * i));
        await expect(closing.imap(square, [1]).next()).rejects.toBeInstanceOf(PoolClosedError);
        await closing.join();
      });

      it('join before close or terminate is a ValueError', async () => {
        const running = new context.Pool(1);
        await expect(running.join()).rejects.toBeInstanceOf(ValueError);
        await running.terminate();
      });

      it('terminate fails unfinished work with PoolClosedError', async () => {
        const terminating = new context.Pool(1);
        const pending = terminating.applyAsync(sleep, [5000]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await terminating.terminate();
        await expect(pending.get()).rejects.toBeInstanceOf(PoolClosedError);
        await terminating.join();
      });

      it('await using closes the pool and waits for its work', async () => {
        let result: AsyncResult<number> | undefined;
        {
          await using scoped = new context.Pool(1);
          result = scoped.applyAsync(sleep, [30]);
        }
        expect(result.ready()).toBe(true);
        expect(await result.get()).toBe(30);
      });

      it('bad pool options are refused, naming the option and value', () => {
        expect(() => new context.Pool(0)).toThrow(/processes must be a whole number ≥ 1; got 0 \(number\)/);
        expect(() => new context.Pool({ processes: 1.5 })).toThrow(InvalidArgumentError);
        expect(() => new context.Pool({ maxTasksPerChild: 0 })).toThrow(/maxTasksPerChild/);
        expect(() => new context.Pool({ procs: 2 } as never)).toThrow(/procs/);
        expect(() => new context.Pool({ initializer: ((x: number) => x) as never })).toThrow(/initializer/);
      });
    });
  });
}

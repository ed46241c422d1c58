import { describe, expect, it } from 'vitest';
import { AsyncResult, settle } from '../../../lib/api/AsyncResult.js';
import { InvalidArgumentError, TimeoutError, ValueError } from '../../../lib/errors.js';

function pending<T>() {
  const result = new AsyncResult<T>();
  return { result, resolve: (value: T) => result[settle](true, value), reject: (error: Error) => result[settle](false, error) };
}

describe('AsyncResult', () => {
  it('settles once: later resolutions are ignored', async () => {
    const { result, resolve, reject } = pending<number>();
    resolve(1);
    resolve(2);
    reject(new Error('late'));
    expect(await result.get()).toBe(1);
    expect(result.successful()).toBe(true);
  });

  it('get(timeout) raises TimeoutError while pending, then the value once ready', async () => {
    const { result, resolve } = pending<string>();
    const error = (await result.get(5).catch((e: unknown) => e)) as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.timeoutMs).toBe(5);
    resolve('done');
    expect(await result.get(5)).toBe('done');
  });

  it('successful() before ready is a ValueError, as in Python', () => {
    expect(() => pending<number>().result.successful()).toThrow(ValueError);
  });

  it('a failure nobody reads raises no unhandled rejection', async () => {
    const { reject } = pending<number>();
    reject(new Error('ignored'));
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('refuses a bad timeout, naming it', async () => {
    await expect(pending<number>().result.get('1' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    // A negative timeout counts as zero, as in Python: not ready now is a TimeoutError.
    await expect(pending<number>().result.get(-1)).rejects.toBeInstanceOf(TimeoutError);
    await expect(pending<number>().result.wait(Number.NaN)).rejects.toThrow(
      /AsyncResult.wait\(timeout\) must be a finite number of milliseconds/,
    );
  });

  it('runs the callback for a value and the errorCallback for an error', async () => {
    const seen: unknown[] = [];
    const ok = new AsyncResult<number>({ callback: (v) => seen.push(v) });
    const bad = new AsyncResult<number>({ errorCallback: (e) => seen.push(e.message) });
    ok[settle](true, 3);
    bad[settle](false, new Error('no'));
    await ok.wait();
    await bad.wait();
    expect(seen).toEqual([3, 'no']);
  });
});

import { describe, expect, it } from 'vitest';
import { Array as PythonArray, IndexError, InvalidArgumentError, SharedArray } from 'fanout';

describe('SharedArray (public API)', () => {
  it("is also exported under Python's name, Array", () => {
    expect(PythonArray).toBe(SharedArray);
  });

  it('takes a length or any iterable of initial elements', async () => {
    expect(await new SharedArray('i', 3).toArray()).toEqual([0, 0, 0]);
    expect(await new SharedArray('i', new Set([4, 5])).toArray()).toEqual([4, 5]);
    function* counting() {
      yield 1n;
      yield 2n;
    }
    expect(await new SharedArray('Q', counting()).toArray()).toEqual([1n, 2n]);
    expect(new SharedArray('b', []).length).toBe(0);
  });

  it('refuses a bad size or items', () => {
    expect(() => new SharedArray('i', -1)).toThrow(InvalidArgumentError);
    expect(() => new SharedArray('i', 2.5)).toThrow(/a whole number in 0\.\./);
    expect(() => new SharedArray('i', 'abc' as never)).toThrow(/a length, or an iterable/);
    expect(() => new SharedArray('B', [1, 256])).toThrow(/item 1 for typecode 'B'/);
  });

  it('an empty array has no valid index', async () => {
    await expect(new SharedArray('d', 0).get(0)).rejects.toThrow(/allowed: none, it is empty/);
  });

  it('IndexError carries the index and the length, and names the allowed range', async () => {
    const array = new SharedArray('h', 2);
    const error = await array.set(2, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IndexError);
    expect(error).toMatchObject({ code: 'ERR_INDEX', index: 2, length: 2 });
    expect((error as Error).message).toMatch(/allowed: -2\.\.1/);
  });

  it('adds to one element atomically', async () => {
    const array = new SharedArray('d', [0.5, 1]);
    expect(await array.add(1, 0.5)).toBe(1.5);
    expect(await array.add(-2, 1)).toBe(1.5);
    expect(await array.toArray()).toEqual([1.5, 1.5]);
  });
});

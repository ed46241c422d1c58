/**
 * Python parity of `imap` and `imapUnordered` when their input iterable raises: as CPython's
 * `test_imap_handle_iterable_exception`, the results of the items read before the error are all
 * handed out, then the iterator raises the input's own error.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Pool } from 'fanout';
import { square } from '../../fixtures/tasks.js';

const pool = new Pool(2);
afterAll(() => pool.terminate());

class InputBroke extends Error {}

/** Yields 0..count-1, then throws `error`. */
function* throwsAfter(count: number, error: Error): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
  throw error;
}

async function* throwsAfterAsync(count: number, error: Error): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    yield i;
  }
  throw error;
}

/** What the iterator yielded, and what it raised. */
async function drain(iterator: AsyncIterable<number>): Promise<{ values: number[]; error: unknown }> {
  const values: number[] = [];
  try {
    for await (const value of iterator) values.push(value);
  } catch (error) {
    return { values, error };
  }
  return { values, error: undefined };
}

describe('an exception raised by the input iterable', () => {
  for (const chunksize of [undefined, 1, 2, 4]) {
    it(`imap yields every result before it, then raises it (chunksize ${chunksize ?? 'automatic'})`, async () => {
      const broke = new InputBroke('input broke after 5 items');
      const { values, error } = await drain(pool.imap(square, throwsAfter(5, broke), chunksize ? { chunksize } : {}));
      expect(values).toEqual([0, 1, 4, 9, 16]);
      expect(error).toBe(broke);
    });

    it(`imapUnordered yields every result before it, then raises it (chunksize ${chunksize ?? 'automatic'})`, async () => {
      const broke = new InputBroke('input broke after 5 items');
      const { values, error } = await drain(pool.imapUnordered(square, throwsAfter(5, broke), chunksize ? { chunksize } : {}));
      expect(values.sort((a, b) => a - b)).toEqual([0, 1, 4, 9, 16]);
      expect(error).toBe(broke);
    });
  }

  it('an async input that rejects: imap yields every result before it, then raises it', async () => {
    const broke = new InputBroke('async input broke after 5 items');
    const { values, error } = await drain(pool.imap(square, throwsAfterAsync(5, broke)));
    expect(values).toEqual([0, 1, 4, 9, 16]);
    expect(error).toBe(broke);
  });

  it('an input that raises at once: the first next() raises it', async () => {
    const broke = new InputBroke('input broke at once');
    const { values, error } = await drain(pool.imap(square, throwsAfter(0, broke)));
    expect(values).toEqual([]);
    expect(error).toBe(broke);
  });

  it('the pool still works afterwards', async () => {
    await drain(pool.imap(square, throwsAfter(3, new InputBroke('again'))));
    expect(await pool.map(square, [1, 2, 3])).toEqual([1, 4, 9]);
  });
});

/**
 * The checks `Pool` makes before any work reaches a worker: every error names the public call
 * that was made, the `resourceLimits` and `tasks` options are checked when the pool is created,
 * an aborted signal fails with fanout's `AbortError`, and a stream argument is named as one.
 * Workers start only on the first submitted work, so most of these run without a thread.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, FanoutError, InvalidArgumentError, Pool, SerializationError, TaskModuleError, type Task } from 'fanout';
import { add, square } from '../../fixtures/tasks.js';

const pools: Pool[] = [];
function pool(options?: ConstructorParameters<typeof Pool>[0]): Pool {
  const created = new Pool(options ?? 1);
  pools.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.terminate()));
});

/** The error a call raised, thrown at once or as a rejection. */
async function errorOf(call: () => unknown): Promise<Error> {
  try {
    const outcome = call();
    if (outcome && typeof (outcome as AsyncIterator<unknown>).next === 'function') {
      await (outcome as AsyncIterator<unknown>).next();
    } else {
      await outcome;
    }
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call did not fail');
}

const notATask = 5 as unknown as Task<[number], number>;
const notAnArray = 5 as unknown as number[];

describe('every public call names itself in its errors', () => {
  /** Each call with a bad task, bad input and a bad option; `name` is what its errors must say. */
  const calls: Array<{
    name: string;
    badTask: (p: Pool) => unknown;
    badInput: (p: Pool) => unknown;
    badOption: (p: Pool) => unknown;
    input: string;
  }> = [
    {
      name: 'apply',
      input: 'args',
      badTask: (p) => p.apply(notATask, [1]),
      badInput: (p) => p.apply(square, notAnArray as never),
      badOption: (p) => p.apply(square, [1], { timeout: 'soon' as never }),
    },
    {
      name: 'applyAsync',
      input: 'args',
      badTask: (p) => p.applyAsync(notATask, [1]),
      badInput: (p) => p.applyAsync(square, notAnArray as never),
      badOption: (p) => p.applyAsync(square, [1], { timeout: 'soon' as never }),
    },
    {
      name: 'map',
      input: 'items',
      badTask: (p) => p.map(notATask, [1]),
      badInput: (p) => p.map(square, notAnArray),
      badOption: (p) => p.map(square, [1], { timeout: 'soon' as never }),
    },
    {
      name: 'mapAsync',
      input: 'items',
      badTask: (p) => p.mapAsync(notATask, [1]),
      badInput: (p) => p.mapAsync(square, notAnArray),
      badOption: (p) => p.mapAsync(square, [1], { timeout: 'soon' as never }),
    },
    {
      name: 'starmap',
      input: 'items',
      badTask: (p) => p.starmap(notATask as never, [[1]]),
      badInput: (p) => p.starmap(add, notAnArray as never),
      badOption: (p) => p.starmap(add, [[1, 2]], { timeout: 'soon' as never }),
    },
    {
      name: 'starmapAsync',
      input: 'items',
      badTask: (p) => p.starmapAsync(notATask as never, [[1]]),
      badInput: (p) => p.starmapAsync(add, notAnArray as never),
      badOption: (p) => p.starmapAsync(add, [[1, 2]], { timeout: 'soon' as never }),
    },
    {
      name: 'imap',
      input: 'items',
      badTask: (p) => p.imap(notATask, [1]),
      badInput: (p) => p.imap(square, notAnArray),
      badOption: (p) => p.imap(square, [1], { timeout: 'soon' as never }),
    },
    {
      name: 'imapUnordered',
      input: 'items',
      badTask: (p) => p.imapUnordered(notATask, [1]),
      badInput: (p) => p.imapUnordered(square, notAnArray),
      badOption: (p) => p.imapUnordered(square, [1], { timeout: 'soon' as never }),
    },
  ];

  it.each(calls)('pool.$name', async ({ name, input, badTask, badInput, badOption }) => {
    const p = pool();
    const taskError = await errorOf(() => badTask(p));
    expect(taskError).toBeInstanceOf(InvalidArgumentError);
    expect(taskError.message).toMatch(new RegExp(`^pool\\.${name}\\(task, ${input}\\): task must be a task`));
    const inputError = await errorOf(() => badInput(p));
    expect(inputError).toBeInstanceOf(InvalidArgumentError);
    expect(inputError.message).toMatch(new RegExp(`^pool\\.${name}\\(task, ${input}\\): ${input} must be`));
    const optionError = await errorOf(() => badOption(p));
    expect(optionError).toBeInstanceOf(InvalidArgumentError);
    expect(optionError.message).toMatch(new RegExp(`^pool\\.${name}\\(task, ${input}, options\\): timeout must be`));
  });

  it('an unknown or misplaced option is named under the call that was made', async () => {
    const p = pool();
    expect((await errorOf(() => p.map(square, [1], { chunkSize: 2 } as never))).message).toMatch(
      /^pool\.map\(task, items, options\)\.chunkSize must be one of the known options \(timeout, signal, chunksize\)/,
    );
    expect((await errorOf(() => p.starmap(add, [[1, 2]], { chunksize: 0 }))).message).toMatch(
      /^pool\.starmap\(task, items, options\): chunksize must be a whole number ≥ 1; got 0/,
    );
    // The callbacks belong to the Async forms only.
    expect((await errorOf(() => p.apply(square, [1], { callback: () => {} } as never))).message).toMatch(
      /^pool\.apply\(task, args, options\)\.callback must be one of the known options/,
    );
    expect((await errorOf(() => p.applyAsync(square, [1], { callback: 3 as never }))).message).toMatch(
      /^pool\.applyAsync\(task, args, options\): callback must be a function/,
    );
  });
});

describe('the resourceLimits option', () => {
  it.each([
    ['maxOldGenerationSizeMb', 1, /≥ 2 \(Node's smallest heap limit\).*; got 1 \(number\)/],
    ['maxOldGenerationSizeMb', -64, /got -64 \(number\)/],
    ['maxOldGenerationSizeMb', Number.NaN, /got NaN \(number\)/],
    ['maxOldGenerationSizeMb', '64', /a number of MB .*; got '64' \(string\)/],
    ['maxYoungGenerationSizeMb', 0, /> 0 and ≤ 1048576; got 0 \(number\)/],
    ['codeRangeSizeMb', 1e9, /≤ 1048576; got 1000000000 \(number\)/],
    ['stackSizeMb', 0.1, /≥ 1 .*; got 0\.1 \(number\)/],
    ['stackSizeMb', Infinity, /got Infinity \(number\)/],
  ])('refuses %s = %s at once, naming the field, the value and what is allowed', (field, value, message) => {
    let error: unknown;
    try {
      pool({ resourceLimits: { [field]: value } });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).option).toBe(`new Pool(options): resourceLimits.${field}`);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses an unknown field and a value that is not an object', () => {
    expect(() => pool({ resourceLimits: { maxOldSpaceSizeMb: 64 } as never })).toThrow(
      /resourceLimits\.maxOldSpaceSizeMb must be one of the known options \(maxOldGenerationSizeMb, maxYoungGenerationSizeMb, codeRangeSizeMb, stackSizeMb\)/,
    );
    expect(() => pool({ resourceLimits: 64 as never })).toThrow(/resourceLimits must be an options object; got 64/);
  });

  it('takes sensible limits', () => {
    expect(() =>
      pool({ resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8, codeRangeSizeMb: 16, stackSizeMb: 4 } }),
    ).not.toThrow();
    expect(() => pool({ resourceLimits: { maxOldGenerationSizeMb: undefined } })).not.toThrow();
  });
});

describe('the tasks option', () => {
  it('takes a single path, a single URL, or an array of them', async () => {
    // A module that does not exist shows that the worker was told to import it.
    const single = pool({ processes: 1, tasks: 'test/fixtures/does-not-exist.ts' });
    const fromPath = (await errorOf(() => single.apply(square, [1]))) as TaskModuleError;
    expect(fromPath).toBeInstanceOf(TaskModuleError);
    expect(fromPath.module).toMatch(/^file:.*\/test\/fixtures\/does-not-exist\.ts$/);

    const url = new URL('../../fixtures/also-missing.ts', import.meta.url);
    const fromUrl = (await errorOf(() => pool({ processes: 1, tasks: url }).apply(square, [1]))) as TaskModuleError;
    expect(fromUrl).toBeInstanceOf(TaskModuleError);
    expect(fromUrl.module).toBe(url.href);

    expect(await pool({ processes: 1, tasks: 'test/fixtures/preloaded.ts' }).apply(square, [3])).toBe(9);
  });

  it('names a bad entry by its index, and a bad value as a whole', () => {
    expect(() => pool({ tasks: ['test/fixtures/preloaded.ts', 5 as never] })).toThrow(
      /^new Pool\(options\): tasks\[1\] must be a module path or URL; got 5 \(number\)/,
    );
    expect(() => pool({ tasks: '' })).toThrow(/^new Pool\(options\): tasks must be a module path or URL; got '' \(string\)/);
    expect(() => pool({ tasks: 5 as never })).toThrow(
      /^new Pool\(options\): tasks must be a module path or URL, or an array of them; got 5 \(number\)/,
    );
  });
});

describe('an aborted signal', () => {
  it('fails the call with AbortError: code ERR_ABORTED, the reason as cause, name AbortError', async () => {
    const reason = new Error('the user quit');
    const error = await errorOf(() => pool().apply(square, [1], { signal: AbortSignal.abort(reason) }));
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toBeInstanceOf(FanoutError);
    expect(error).toMatchObject({ code: 'ERR_ABORTED', name: 'AbortError', cause: reason });
    expect(error.message).toBe("The call of task 'square' was aborted (the user quit); its work was cancelled.");
  });

  it('keeps the default reason (a DOMException) and a reason that is not an Error', async () => {
    const p = pool();
    const byDefault = await errorOf(() => p.map(square, [1, 2], { signal: AbortSignal.abort() }));
    expect(byDefault).toMatchObject({ code: 'ERR_ABORTED', name: 'AbortError' });
    expect((byDefault.cause as DOMException).name).toBe('AbortError');
    expect(byDefault.message).toMatch(/^The map of task 'square' was aborted \(This operation was aborted\)/);

    const byString = await errorOf(() => p.starmapAsync(add, [[1, 2]], { signal: AbortSignal.abort('closing time') }));
    expect(byString).toMatchObject({ code: 'ERR_ABORTED', cause: 'closing time' });
    expect(byString.message).toContain('(closing time)');

    const byNumber = await errorOf(() => p.imap(square, [1], { signal: AbortSignal.abort(42) }));
    expect(byNumber).toMatchObject({ code: 'ERR_ABORTED', cause: 42 });
    expect(byNumber.message).toContain('(42 (number))');
  });
});

describe('a stream or socket as an argument', () => {
  it('is refused at submit time, naming what it is', () => {
    const p = pool();
    let error: unknown;
    try {
      p.applyAsync(square as unknown as Task<[unknown], number>, [new PassThrough()]);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as SerializationError).path).toBe('the arguments[0]');
    expect((error as Error).message).toBe(
      'Cannot send the arguments[0]: it is a PassThrough (a stream); streams and sockets cannot cross to a worker. ' +
        'Pass the data, or a path or URL the worker can open.',
    );
  });
});

/**
 * The checks `Pool` makes before any work reaches a worker. Workers start only on the first
 * submitted work, so these run without a thread.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, Pool } from 'fanout';

const pools: Pool[] = [];
function pool(options?: ConstructorParameters<typeof Pool>[0]): Pool {
  const created = new Pool(options ?? 1);
  pools.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.terminate()));
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

import { InvalidArgumentError } from 'commander';

/** A commander option parser: the option's text in, its value out; `previous` is the value so far. */
export type OptionParser<T> = (value: string, previous: T | undefined) => T;

/**
 * A parser for an option given at most once: refuses a second occurrence, a value that is
 * really the next option (`--processes --backend aws`), and a value `convert` rejects (it returns
 * undefined). Commander reports the refusal as "option '--x <N>' argument 'v' is invalid." followed
 * by the message here, which says what is allowed.
 *
 * @example
 * ```ts
 * new Option('--name <prefix>').argParser(singleValue('lower-case letters', (v) => (/^[a-z]+$/.test(v) ? v : undefined)));
 * ```
 */
export function singleValue<T>(allowed: string, convert: (value: string) => T | undefined): OptionParser<T> {
  return (value, previous) => {
    if (previous !== undefined) throw new InvalidArgumentError('The option is given more than once; give it once.');
    if (/^--?[A-Za-z]/.test(value)) {
      throw new InvalidArgumentError(`It needs a value (${allowed}), but is followed by the option '${value}'.`);
    }
    const converted = convert(value);
    if (converted === undefined) throw new InvalidArgumentError(`Allowed: ${allowed}.`);
    return converted;
  };
}

/**
 * Whole numbers from `min` to `max`, written in digits (so not `''`, `' 2'`, `0x2`, `1e1`, `2.0`,
 * which `Number()` would take).
 *
 * @example
 * ```ts
 * new Option('--threads <N>').argParser(wholeNumber(1, 256));
 * ```
 */
export function wholeNumber(min: number, max: number = Number.MAX_SAFE_INTEGER): OptionParser<number> {
  const allowed =
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number ≥ ${min} in digits, like ${Math.max(min, 4)}`
      : `a whole number from ${min} to ${max} in digits`;
  return singleValue(allowed, (value) => {
    const number = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    return Number.isSafeInteger(number) && number >= min && number <= max ? number : undefined;
  });
}

/**
 * One of `choices`, exactly as written.
 *
 * @example
 * ```ts
 * new Option('-b, --backend <local|aws>').argParser(oneOf(['local', 'aws']));
 * ```
 */
export function oneOf<T extends string>(choices: readonly T[]): OptionParser<T> {
  return singleValue(`one of ${choices.map((choice) => `'${choice}'`).join(', ')}`, (value) =>
    choices.find((choice) => choice === value),
  );
}

/**
 * A string that matches `pattern`; `allowed` describes it.
 *
 * @example
 * ```ts
 * new Option('--region <region>').argParser(matching(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region, like eu-west-1'));
 * ```
 */
export function matching(pattern: RegExp, allowed: string): OptionParser<string> {
  return singleValue(allowed, (value) => (pattern.test(value) ? value : undefined));
}

/**
 * A list option (`--tasks a.ts b.ts`, or `--tasks a.ts --tasks b.ts`): collects the values, and
 * refuses one that is empty.
 *
 * @example
 * ```ts
 * new Option('--tasks <module...>').argParser(collect('a task module path'));
 * ```
 */
export function collect(allowed: string): OptionParser<string[]> {
  return (value, previous) => {
    if (value === '') throw new InvalidArgumentError(`Allowed: ${allowed}, not an empty string.`);
    return [...(previous ?? []), value];
  };
}

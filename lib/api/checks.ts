/**
 * Argument checks shared by the public classes. Each names the option, the value and its type,
 * and what is allowed.
 */
import { InvalidArgumentError } from '../errors.js';

/** A timeout in ms: a finite number ≥ 0, or undefined for no timeout. */
export function checkTimeout(option: string, value: unknown): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(option, value, 'a number of milliseconds ≥ 0 (or undefined for no timeout)');
  }
}

/** A whole number ≥ `min`, or undefined. */
export function checkInteger(option: string, value: unknown, min: number): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(option, value, `a whole number ≥ ${min}`);
  }
}

/** A function, or undefined. */
export function checkFunction(option: string, value: unknown): asserts value is ((...args: never[]) => unknown) | undefined {
  if (value !== undefined && typeof value !== 'function') throw new InvalidArgumentError(option, value, 'a function');
}

/** An AbortSignal, or undefined. */
export function checkSignal(option: string, value: unknown): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new InvalidArgumentError(option, value, 'an AbortSignal (for example from new AbortController().signal)');
  }
}

/** A plain options object, or undefined; unknown keys are refused, naming the allowed ones. */
export function checkOptions(where: string, value: unknown, allowed: readonly string[]): asserts value is object | undefined {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(where, value, 'an options object');
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(
        `${where}.${key}`,
        (value as Record<string, unknown>)[key],
        `one of the known options (${allowed.join(', ')})`,
      );
    }
  }
}

/**
 * Argument checks shared by the public classes. Each names the option, the value and its type,
 * and what is allowed.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * A timeout in ms: a finite number, or undefined for no timeout. A negative one counts as zero
 * (do not wait), as in Python.
 */
export function checkTimeout(option: string, value: unknown): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(option, value, 'a finite number of milliseconds (≤ 0: do not wait; undefined: no timeout)');
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

/**
 * The smallest value of each `resourceLimits` field, in MB (0: any number > 0), and why. Node
 * hands these to V8 unchecked: a string is silently ignored, a stack under ~0.25 MB or a code
 * range past the address space aborts the whole process, and a heap under 2 MB is raised to 2.
 */
const RESOURCE_LIMIT_FLOORS: Readonly<Record<string, readonly [number, string]>> = {
  maxOldGenerationSizeMb: [2, "Node's smallest heap limit"],
  maxYoungGenerationSizeMb: [0, ''],
  codeRangeSizeMb: [0, ''],
  stackSizeMb: [1, "Node's default is 4; under about 0.3 a thread cannot even start"],
};
/** 1 TiB: more than any machine gives a thread, and far below what makes V8 abort the process. */
const MAX_RESOURCE_LIMIT_MB = 1024 * 1024;

/** Worker thread memory limits (`ResourceLimits` of `node:worker_threads`), or undefined. */
export function checkResourceLimits(option: string, value: unknown): void {
  checkOptions(option, value, Object.keys(RESOURCE_LIMIT_FLOORS));
  if (value === undefined) return;
  for (const [key, [floor, why]] of Object.entries(RESOURCE_LIMIT_FLOORS)) {
    const limit = (value as Record<string, unknown>)[key];
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !(limit > 0 && limit >= floor && limit <= MAX_RESOURCE_LIMIT_MB)) {
      const least = floor > 0 ? `≥ ${floor} (${why})` : '> 0';
      throw new InvalidArgumentError(`${option}.${key}`, limit, `a number of MB ${least} and ≤ ${MAX_RESOURCE_LIMIT_MB}`);
    }
  }
}

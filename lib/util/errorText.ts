/**
 * An error as one line for a message or a log: `Name: message`, or the thrown value as a string.
 *
 * @example
 * ```ts
 * errorText(new RangeError('too big')); // 'RangeError: too big'
 * ```
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

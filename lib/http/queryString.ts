/**
 * Parses a raw query string (without the `?`) into its parameters, percent-decoded, in order,
 * as SigV4 canonicalization and the Lambda Function URL event both need them. `+` stays a plus
 * (RFC 3986, as AWS's canonical query treats it), a name without `=` has the value `''`, and
 * empty pieces (`a=1&&b=2`) are skipped. Returns `undefined` when a `%` escape is malformed, so
 * that a caller can refuse the request instead of throwing.
 *
 * @example
 * ```ts
 * parseQueryString('b=2&a=x%20y&a'); // [['b', '2'], ['a', 'x y'], ['a', '']]
 * parseQueryString('a=%zz'); // undefined
 * ```
 */
export function parseQueryString(raw: string): Array<[string, string]> | undefined {
  const pairs: Array<[string, string]> = [];
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const equals = piece.indexOf('=');
    const name = decode(equals === -1 ? piece : piece.slice(0, equals));
    const value = decode(equals === -1 ? '' : piece.slice(equals + 1));
    if (name === undefined || value === undefined) return undefined;
    pairs.push([name, value]);
  }
  return pairs;
}

/**
 * Groups parsed parameters by name, the shape `@smithy/signature-v4` signs: one string, or every
 * value in order when a name repeats.
 *
 * @example
 * ```ts
 * groupQuery([['a', '1'], ['b', '2'], ['a', '3']]); // { a: ['1', '3'], b: '2' }
 * ```
 */
export function groupQuery(pairs: ReadonlyArray<readonly [string, string]>): Record<string, string | string[]> {
  const grouped: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of pairs) {
    const previous = grouped[name];
    if (previous === undefined) grouped[name] = value;
    else if (typeof previous === 'string') grouped[name] = [previous, value];
    else previous.push(value);
  }
  return grouped;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

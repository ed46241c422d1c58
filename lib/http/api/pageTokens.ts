import { ApiRefusal } from './ApiRefusal.js';

/**
 * Where a results page of the API starts: the service's page token (`undefined` for the job's
 * start) and how many results of that service page were already sent. The service pages by whole
 * chunks, so the API cuts a service page into pages of at most `limit` results that fit in a
 * response, and says where in it the next one starts.
 */
export interface ResultsCursor {
  service: string | undefined;
  skip: number;
}

/**
 * The API's `next` token for a cursor: base64url of `[serviceToken | null, skip]`, opaque to clients.
 *
 * @example
 * ```ts
 * const next = encodeResultsToken({ service: 'c4i40', skip: 10 });
 * decodeResultsToken(next); // { service: 'c4i40', skip: 10 }
 * ```
 */
export function encodeResultsToken(cursor: ResultsCursor): string {
  return Buffer.from(JSON.stringify([cursor.service ?? null, cursor.skip])).toString('base64url');
}

/**
 * The cursor of a `next` token from {@link encodeResultsToken}; any other text is a 400
 * (`ERR_INVALID_ARGUMENT`, as the service answers a token it did not make).
 *
 * @example
 * ```ts
 * decodeResultsToken('bogus'); // throws ApiRefusal 400
 * ```
 */
export function decodeResultsToken(token: string): ResultsCursor {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(token) ? JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    (parsed[0] === null || (typeof parsed[0] === 'string' && parsed[0] !== '')) &&
    Number.isSafeInteger(parsed[1]) &&
    (parsed[1] as number) >= 0
  ) {
    return { service: (parsed[0] as string | null) ?? undefined, skip: parsed[1] as number };
  }
  throw new ApiRefusal(
    400,
    'ERR_INVALID_ARGUMENT',
    'query.next must be the "next" token of a previous results page of this job, passed back unchanged.',
  );
}

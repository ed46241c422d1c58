import { randomBytes } from 'node:crypto';

/** Crockford's base32, lower case: no i, l, o, u, so that an id read aloud or retyped stays one id. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

/** What every job id looks like: 26 characters, the first ten the creation time. */
export const JOB_ID_PATTERN = /^[0-9a-z]{26}$/;

/**
 * A new job id: the creation time in ms (ten base32 characters, so ids sort by time, as a job
 * list reads them) and 80 random bits.
 *
 * @example
 * ```ts
 * newJobId(); // '01jq4m3v9x8k2n7p5r6s4t3w2y'
 * ```
 */
export function newJobId(now: number = Date.now()): string {
  let time = '';
  let rest = Math.floor(now);
  for (let i = 0; i < TIME_CHARS; i++) {
    time = ALPHABET[rest % 32]! + time;
    rest = Math.floor(rest / 32);
  }
  const bytes = randomBytes(RANDOM_CHARS);
  let random = '';
  for (const byte of bytes) random += ALPHABET[byte % 32]!;
  return time + random;
}

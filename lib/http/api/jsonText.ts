import { ApiRefusal } from './ApiRefusal.js';

/**
 * How deeply arrays and objects may nest in a request body or an upload: deeper JSON is refused
 * (400 `ERR_JSON_TOO_DEEP`) before anything recurses over it, so that no input can exhaust the stack.
 */
export const MAX_JSON_DEPTH = 128;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes UTF-8 bytes strictly: invalid UTF-8 is a 400 (`ERR_INVALID_UTF8`), never replaced
 * silently. A leading byte-order mark is dropped.
 *
 * @example
 * ```ts
 * decodeUtf8(new TextEncoder().encode('[1]'), 'The request body'); // '[1]'
 * ```
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return stripBom(utf8.decode(bytes));
  } catch {
    throw new ApiRefusal(400, 'ERR_INVALID_UTF8', `${what} is not valid UTF-8: send JSON text encoded as UTF-8.`);
  }
}

/**
 * Parses JSON text: malformed JSON is a 400 (`ERR_BAD_JSON`, with the parser's reason), JSON
 * nested deeper than {@link MAX_JSON_DEPTH} a 400 (`ERR_JSON_TOO_DEEP`).
 *
 * @example
 * ```ts
 * parseJsonText('{"task":"square","items":[1]}', 'The request body'); // { task: 'square', items: [1] }
 * ```
 */
export function parseJsonText(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(stripBom(text));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiRefusal(400, 'ERR_BAD_JSON', `${what} is not valid JSON: ${clipReason(reason)}`);
  }
  const depth = jsonDepth(value, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) {
    throw new ApiRefusal(
      400,
      'ERR_JSON_TOO_DEEP',
      `${what} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep; flatten the items.`,
    );
  }
  return value;
}

/** The nesting depth of a parsed JSON value (a scalar is 0), counted without recursion, stopping past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) pending.push([child, level]);
    }
  }
  return deepest;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The parser's reason quotes the input; keep it short and printable. */
function clipReason(reason: string): string {
  const printable = reason.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 200 ? `${printable.slice(0, 197)}...` : printable;
}

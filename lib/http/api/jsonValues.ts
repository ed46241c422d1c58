/** A value JSON can carry as it is. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const TYPED_ARRAY = Object.getPrototypeOf(Int8Array) as abstract new () => ArrayLike<number | bigint>;

/**
 * Turns a decoded task result (anything fanout's codec carries) into a value `JSON.stringify`
 * writes faithfully, by fixed rules, so that an HTTP client sees the same JSON for the same
 * result every time:
 *
 * | JS value | JSON |
 * | --- | --- |
 * | `undefined` (a result, an array element, a Map/Set entry), a hole in an array | `null` |
 * | an object property whose value is `undefined`, a function or a symbol | the property is left out |
 * | `null`, booleans, strings, finite numbers | themselves |
 * | `-0` | `0` |
 * | `NaN`, `Infinity`, `-Infinity` | `null` |
 * | a bigint | its decimal digits as a string: `12n` → `"12"` (exact at any size) |
 * | a function or a symbol (not as a property) | `null` |
 * | a `Date` | its ISO 8601 string (`toISOString()`); an invalid date → `null` |
 * | a `Map` | an array of `[key, value]` pairs in insertion order (keys converted too) |
 * | a `Set` | an array of its values in insertion order |
 * | a typed array, a `Buffer` | an array of its numbers (a `BigInt64Array`'s as decimal strings, a float array's NaN → `null`) |
 * | an `ArrayBuffer`, a `DataView` | an array of its bytes (0–255) |
 * | a `RegExp` | its source form, e.g. `"/a+/gi"` |
 * | an `Error` | `{ "name", "message" }` (no stack) |
 * | `Number`, `String`, `Boolean` objects | their primitive value (by the rules above) |
 * | any other object (plain, class instance, null-prototype) | an object of its own enumerable string keys, `__proto__` included as a plain key |
 * | a reference to an object that contains it (a cycle) | `null` (the same object reached twice without a cycle is written twice) |
 *
 * @example
 * ```ts
 * toJsonValue(new Map([['a', 1n]])); // [['a', '1']]
 * toJsonValue({ when: new Date(0), gone: undefined, n: NaN }); // { when: '1970-01-01T00:00:00.000Z', n: null }
 * ```
 */
export function toJsonValue(value: unknown): JsonValue {
  return convert(value, new Set());
}

function convert(value: unknown, ancestors: Set<object>): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return numberValue(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return null;
    default:
      break;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) return null;
  ancestors.add(object);
  try {
    return convertObject(object, ancestors);
  } finally {
    ancestors.delete(object);
  }
}

function convertObject(value: object, ancestors: Set<object>): JsonValue {
  if (Array.isArray(value)) {
    const out: JsonValue[] = new Array<JsonValue>(value.length);
    // A plain loop, not map(): map skips holes, which must become null.
    for (let i = 0; i < value.length; i++) out[i] = convert(value[i], ancestors);
    return out;
  }
  if (value instanceof Date) {
    const time = value.getTime();
    return Number.isNaN(time) ? null : value.toISOString();
  }
  if (value instanceof Map) return [...value].map(([key, entry]) => [convert(key, ancestors), convert(entry, ancestors)]);
  if (value instanceof Set) return [...value].map((entry) => convert(entry, ancestors));
  if (value instanceof TYPED_ARRAY) {
    return Array.from(value as ArrayLike<number | bigint>, (item) =>
      typeof item === 'bigint' ? item.toString() : numberValue(item),
    );
  }
  if (value instanceof DataView) return Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return Array.from(new Uint8Array(value));
  if (value instanceof RegExp) return String(value);
  if (value instanceof Error) return { name: String(value.name), message: String(value.message) };
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    return convert(value.valueOf(), ancestors);
  }
  // A null-prototype object: JSON.stringify writes a '__proto__' key of it as an ordinary key.
  const out = Object.create(null) as { [key: string]: JsonValue };
  for (const key of Object.keys(value)) {
    const entry = (value as Record<string, unknown>)[key];
    if (entry === undefined || typeof entry === 'function' || typeof entry === 'symbol') continue;
    out[key] = convert(entry, ancestors);
  }
  return out;
}

function numberValue(value: number): number | null {
  if (!Number.isFinite(value)) return null;
  return Object.is(value, -0) ? 0 : value;
}

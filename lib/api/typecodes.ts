/**
 * Python's `array`/`ctypes` typecodes for shared memory (`Value`, `SharedArray`), with the
 * sizes of CPython on 64-bit Linux and macOS: `'l'`/`'L'` (C long) are 64-bit, as `'q'`/`'Q'`.
 *
 * The 64-bit integer typecodes hold `bigint`s: a JavaScript number cannot represent their whole
 * range exactly. Every other typecode holds `number`s. A value of the wrong type, a fraction for
 * an integer typecode, or a value outside the typecode's range is refused with an error that
 * names the typecode and its range; nothing wraps around silently.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * The typecodes fanout's shared memory supports.
 *
 * @example
 * ```ts
 * typecodes.includes('d'); // true
 * ```
 */
export const typecodes = ['b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q', 'f', 'd'] as const;

/** One of Python's typecodes: `'i'` (32-bit signed), `'d'` (double), ... */
export type Typecode = (typeof typecodes)[number];
/** The 64-bit integer typecodes, whose elements are `bigint`s. */
export type BigIntTypecode = 'l' | 'L' | 'q' | 'Q';
/** The JavaScript type of one element of a typecode: `bigint` for 64-bit integers, else `number`. */
export type ElementOf<T extends Typecode> = T extends BigIntTypecode ? bigint : number;

/** What fanout knows about a typecode. */
export interface TypecodeInfo {
  /** C type, for messages: `signed char`, `double`... */
  readonly cType: string;
  readonly bytes: 1 | 2 | 4 | 8;
  readonly kind: 'int' | 'bigint' | 'float';
  /** Inclusive range of integer typecodes. */
  readonly min?: number | bigint;
  readonly max?: number | bigint;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Size, C type and range of each typecode.
 *
 * @example
 * ```ts
 * typecodeInfo.B; // { cType: 'unsigned char', bytes: 1, kind: 'int', min: 0, max: 255 }
 * ```
 */
export const typecodeInfo: Readonly<Record<Typecode, TypecodeInfo>> = {
  b: { cType: 'signed char', bytes: 1, kind: 'int', min: -128, max: 127 },
  B: { cType: 'unsigned char', bytes: 1, kind: 'int', min: 0, max: 255 },
  h: { cType: 'short', bytes: 2, kind: 'int', min: -32768, max: 32767 },
  H: { cType: 'unsigned short', bytes: 2, kind: 'int', min: 0, max: 65535 },
  i: { cType: 'int', bytes: 4, kind: 'int', min: -2147483648, max: 2147483647 },
  I: { cType: 'unsigned int', bytes: 4, kind: 'int', min: 0, max: 4294967295 },
  l: { cType: 'long (64-bit)', bytes: 8, kind: 'bigint', min: -(2n ** 63n), max: 2n ** 63n - 1n },
  L: { cType: 'unsigned long (64-bit)', bytes: 8, kind: 'bigint', min: 0n, max: 2n ** 64n - 1n },
  q: { cType: 'long long', bytes: 8, kind: 'bigint', min: -(2n ** 63n), max: 2n ** 63n - 1n },
  Q: { cType: 'unsigned long long', bytes: 8, kind: 'bigint', min: 0n, max: 2n ** 64n - 1n },
  f: { cType: 'float (32-bit)', bytes: 4, kind: 'float' },
  d: { cType: 'double', bytes: 8, kind: 'float' },
};

/** Checks that `value` is a supported typecode. `where` names the argument. */
export function checkTypecode(where: string, value: unknown): asserts value is Typecode {
  if (typeof value !== 'string' || !(typecodes as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(where, value, `one of Python's typecodes ${typecodes.map((t) => `'${t}'`).join(' ')}`);
  }
}

/** The allowed values of a typecode, for messages: `a whole number in -128..127`. */
export function describeRange(typecode: Typecode): string {
  const info = typecodeInfo[typecode];
  if (info.kind === 'float') {
    return typecode === 'f' ? `a number (NaN, ±Infinity, or of magnitude at most about ${FLOAT32_MAX})` : 'a number';
  }
  const range = `${String(info.min)}..${String(info.max)}`;
  return info.kind === 'bigint' ? `a bigint in ${range}` : `a whole number in ${range}`;
}

/** Checks one element for a typecode; `where` names it (`Value('i').set(value)`). */
export function checkElement<T extends Typecode>(typecode: T, where: string, value: unknown): asserts value is ElementOf<T> {
  if (!isElement(typecode, value)) {
    const info = typecodeInfo[typecode];
    const hint =
      info.kind === 'bigint' && typeof value === 'number' && Number.isSafeInteger(value)
        ? `Typecode '${typecode}' is 64-bit and holds bigints: write ${value}n or BigInt(${value}).`
        : info.kind === 'int' && typeof value === 'bigint'
          ? `Typecode '${typecode}' holds numbers: write Number(${value}).`
          : undefined;
    throw new InvalidArgumentError(`${where} for typecode '${typecode}' (${info.cType})`, value, describeRange(typecode), hint);
  }
}

/** True if `value` fits typecode `typecode`. */
export function isElement(typecode: Typecode, value: unknown): boolean {
  const info = typecodeInfo[typecode];
  switch (info.kind) {
    case 'int':
      return (
        typeof value === 'number' && Number.isInteger(value) && value >= (info.min as number) && value <= (info.max as number)
      );
    case 'bigint':
      return typeof value === 'bigint' && value >= (info.min as bigint) && value <= (info.max as bigint);
    case 'float':
      if (typeof value !== 'number') return false;
      // A finite number that rounds to ±Infinity in 32 bits would be silently lost.
      return typecode === 'd' || !Number.isFinite(value) || Number.isFinite(Math.fround(value));
  }
}

/** Zero of a typecode: `0` or `0n`. */
export function zeroOf<T extends Typecode>(typecode: T): ElementOf<T> {
  return (typecodeInfo[typecode].kind === 'bigint' ? 0n : 0) as ElementOf<T>;
}

/**
 * Checks a delta for `add`: of the typecode's JavaScript type, whole for integer typecodes, of
 * any sign and size (the result of the addition is what must fit the range).
 */
export function checkDelta(typecode: Typecode, where: string, delta: unknown): void {
  const info = typecodeInfo[typecode];
  const ok =
    info.kind === 'bigint'
      ? typeof delta === 'bigint'
      : typeof delta === 'number' && (info.kind === 'float' || Number.isInteger(delta));
  if (!ok) {
    const allowed = info.kind === 'bigint' ? 'a bigint' : info.kind === 'int' ? 'a whole number' : 'a number';
    throw new InvalidArgumentError(`${where} for typecode '${typecode}' (${info.cType})`, delta, allowed);
  }
}

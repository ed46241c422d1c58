import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'fanout';
import {
  checkDelta,
  checkElement,
  checkTypecode,
  isElement,
  typecodeInfo,
  typecodes,
  zeroOf,
} from '../../../lib/api/typecodes.js';

describe('typecodes', () => {
  it("accepts each integer typecode's bounds and refuses one past them", () => {
    for (const typecode of typecodes) {
      const { kind, min, max } = typecodeInfo[typecode];
      if (kind === 'int') {
        expect(isElement(typecode, min)).toBe(true);
        expect(isElement(typecode, max)).toBe(true);
        expect(isElement(typecode, (min as number) - 1)).toBe(false);
        expect(isElement(typecode, (max as number) + 1)).toBe(false);
        expect(isElement(typecode, 1.5)).toBe(false);
        expect(isElement(typecode, 1n)).toBe(false);
      } else if (kind === 'bigint') {
        expect(isElement(typecode, min)).toBe(true);
        expect(isElement(typecode, max)).toBe(true);
        expect(isElement(typecode, (min as bigint) - 1n)).toBe(false);
        expect(isElement(typecode, (max as bigint) + 1n)).toBe(false);
        expect(isElement(typecode, 1)).toBe(false);
      }
    }
  });

  it("uses Python's ranges on 64-bit Linux ('l' is 64-bit)", () => {
    expect(typecodeInfo.b).toMatchObject({ min: -128, max: 127 });
    expect(typecodeInfo.H).toMatchObject({ min: 0, max: 65535 });
    expect(typecodeInfo.I).toMatchObject({ min: 0, max: 4294967295 });
    expect(typecodeInfo.l).toMatchObject({ bytes: 8, min: -(2n ** 63n), max: 2n ** 63n - 1n });
    expect(typecodeInfo.Q).toMatchObject({ bytes: 8, min: 0n, max: 2n ** 64n - 1n });
  });

  it('floats: any number for d; for f, NaN, infinities and what rounds to a finite float32', () => {
    expect(isElement('d', 1e300)).toBe(true);
    expect(isElement('f', Number.NaN)).toBe(true);
    expect(isElement('f', -Infinity)).toBe(true);
    expect(isElement('f', 3.4028235e38)).toBe(true);
    expect(isElement('f', 1e39)).toBe(false);
    expect(isElement('d', '1')).toBe(false);
    expect(isElement('f', 1n)).toBe(false);
  });

  it('errors name the place, the typecode, its C type and range, and hint at bigint literals', () => {
    expect(() => checkElement('B', 'v.set(value)', 300)).toThrow(InvalidArgumentError);
    expect(() => checkElement('B', 'v.set(value)', 300)).toThrow(
      "v.set(value) for typecode 'B' (unsigned char) must be a whole number in 0..255; got 300 (number).",
    );
    expect(() => checkElement('q', 'init', 5)).toThrow(/a bigint in -9223372036854775808\.\.9223372036854775807.*write 5n/);
    expect(() => checkElement('i', 'init', 5n)).toThrow(/Number\(5\)/);
    expect(() => checkElement('f', 'init', 1e39)).toThrow(/typecode 'f'/);
  });

  it('refuses unknown typecodes, listing the supported ones', () => {
    expect(() => checkTypecode('new Value(typecode)', 'c')).toThrow(/'b' 'B' 'h' 'H' 'i' 'I' 'l' 'L' 'q' 'Q' 'f' 'd'/);
    expect(() => checkTypecode('new Value(typecode)', undefined)).toThrow(InvalidArgumentError);
  });

  it('deltas: any sign and size of the right type', () => {
    expect(() => checkDelta('B', 'add', -1000)).not.toThrow();
    expect(() => checkDelta('Q', 'add', -1n)).not.toThrow();
    expect(() => checkDelta('d', 'add', 0.5)).not.toThrow();
    expect(() => checkDelta('i', 'add', 0.5)).toThrow(/a whole number/);
    expect(() => checkDelta('q', 'add', 1)).toThrow(/a bigint/);
  });

  it('zero is 0n for 64-bit typecodes and 0 otherwise', () => {
    expect(zeroOf('q')).toBe(0n);
    expect(zeroOf('d')).toBe(0);
  });
});

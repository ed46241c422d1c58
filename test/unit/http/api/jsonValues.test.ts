import { describe, expect, it } from 'vitest';
import { toJsonValue } from '../../../../lib/http/api/jsonValues.js';

const json = (value: unknown) => JSON.stringify(toJsonValue(value));

describe('toJsonValue: decoded results as JSON, by fixed rules', () => {
  it('writes undefined as null (result, array element, hole) and leaves out undefined, function and symbol properties', () => {
    expect(json(undefined)).toBe('null');
    // eslint-disable-next-line no-sparse-arrays
    expect(json([undefined, , 1])).toBe('[null,null,1]');
    expect(json({ a: undefined, b: () => 1, c: Symbol('s'), d: 1 })).toBe('{"d":1}');
    expect(json([() => 1, Symbol('s')])).toBe('[null,null]');
  });

  it('writes NaN and the infinities as null, -0 as 0, a bigint as its decimal string', () => {
    expect(json([NaN, Infinity, -Infinity, -0, 1.5])).toBe('[null,null,null,0,1.5]');
    expect(Object.is(toJsonValue(-0), 0)).toBe(true);
    expect(json([2n ** 70n, -3n])).toBe('["1180591620717411303424","-3"]');
  });

  it('writes a Map as [key, value] pairs, a Set as an array, a Date as ISO 8601 (an invalid one as null)', () => {
    expect(json(new Map<unknown, unknown>([[{ k: 1 }, new Set([1n, 'a'])]]))).toBe('[[{"k":1},["1","a"]]]');
    expect(json(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)))).toBe('"2026-01-02T03:04:05.006Z"');
    expect(json(new Date(NaN))).toBe('null');
  });

  it('writes typed arrays, Buffers, ArrayBuffers and DataViews as arrays of numbers', () => {
    expect(json(new Float64Array([1.5, NaN, -0]))).toBe('[1.5,null,0]');
    expect(json(new BigInt64Array([1n, -2n]))).toBe('["1","-2"]');
    expect(json(Buffer.from([1, 2]))).toBe('[1,2]');
    expect(json(new Uint8Array([9, 8, 7]).buffer)).toBe('[9,8,7]');
    expect(json(new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2))).toBe('[2,3]');
    expect(json(new Uint16Array([65535]))).toBe('[65535]');
  });

  it('writes a RegExp as its source form, an Error as {name, message}, boxed primitives as their values', () => {
    expect(json(/a+b/gi)).toBe('"/a+b/gi"');
    const error = new RangeError('too far');
    expect(json(error)).toBe('{"name":"RangeError","message":"too far"}');
    expect(json([Object(1), Object('s'), Object(false), Object(NaN)])).toBe('[1,"s",false,null]');
  });

  it('keeps a __proto__ key as a plain key, writes class instances by their own keys, and cuts cycles with null', () => {
    const withProto = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as object;
    expect(json(withProto)).toBe('{"__proto__":{"polluted":true},"a":1}');
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      get length() {
        return Math.hypot(this.x, this.y);
      }
    }
    expect(json(new Point(3, 4))).toBe('{"x":3,"y":4}');
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    cycle.list = [cycle];
    expect(json(cycle)).toBe('{"name":"loop","self":null,"list":[null]}');
    const shared = { s: 1 };
    expect(json([shared, shared])).toBe('[{"s":1},{"s":1}]');
    expect(json(Object.assign(Object.create(null) as object, { n: 1 }))).toBe('{"n":1}');
  });
});

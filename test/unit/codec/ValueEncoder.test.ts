import { EventEmitter } from 'node:events';
import { Socket, createServer } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ValueEncoder } from '../../../lib/codec/ValueEncoder.js';
import { ValueDecoder } from '../../../lib/codec/ValueDecoder.js';
import { toHandle } from '../../../lib/codec/tags.js';
import { ProtocolError, SerializationError } from '../../../lib/errors.js';

function roundTrip<T>(value: T): T {
  const encoder = new ValueEncoder();
  encoder.write(value, 'value');
  return new ValueDecoder(encoder.finish()).read() as T;
}

function hex(value: unknown): string {
  const encoder = new ValueEncoder();
  encoder.write(value, 'value');
  return Buffer.from(encoder.finish()).toString('hex');
}

describe('ValueEncoder / ValueDecoder', () => {
  it.each([
    ['integers', [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]],
    ['floats', [0.5, -1e-300, 2 ** 53, Number.MAX_VALUE, Infinity, -Infinity]],
    ['strings', ['', 'ascii', 'ünïcödé', '😀 emoji', 'x'.repeat(100_000), 'é'.repeat(200)]],
    ['bigints', [0n, -123n, 2n ** 200n]],
    ['nested', { a: [1, { b: null, c: undefined, d: true, e: false }], 'key with space': 'v' }],
    ['dates', new Date('2026-11-25T00:00:00Z')],
    ['regexps', /a+b/giu],
    ['maps and sets', new Map<unknown, unknown>([[{ k: 1 }, new Set([1, 'a'])]])],
    [
      'typed arrays',
      [new Float64Array([1.5, -2]), new Int16Array([-3, 4]), new BigInt64Array([5n]), new Uint8ClampedArray([255])],
    ],
    ['buffers', Buffer.from('hello')],
    ['array buffers', new Uint8Array([9, 8, 7]).buffer],
  ])('round-trips %s', (_name, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it('keeps NaN, -0, holes and undefined', () => {
    // eslint-disable-next-line no-sparse-arrays -- a hole is what this test sends
    const back = roundTrip([NaN, -0, , undefined]);
    expect(Number.isNaN(back[0])).toBe(true);
    expect(Object.is(back[1], -0)).toBe(true);
    expect(1 in back).toBe(true);
    expect(2 in back).toBe(false);
    expect(back.length).toBe(4);
  });

  it('keeps cycles and shared references', () => {
    const shared = { name: 'shared' };
    const value: Record<string, unknown> = { a: shared, b: shared, list: [shared] };
    value.self = value;
    const back = roundTrip(value);
    expect(back.self).toBe(back);
    expect(back.a).toBe(back.b);
    expect((back.list as unknown[])[0]).toBe(back.a);
  });

  it('sends errors with name, message, stack, cause and extra properties', () => {
    const cause = new RangeError('inner');
    const error = Object.assign(new TypeError('outer', { cause }), { code: 'E_X', detail: { n: 1 } });
    const back = roundTrip(error);
    expect(back).toBeInstanceOf(TypeError);
    expect(back.message).toBe('outer');
    expect(back.stack).toBe(error.stack);
    expect(back.cause).toBeInstanceOf(RangeError);
    expect(back.code).toBe('E_X');
    expect(back.detail).toEqual({ n: 1 });
    const custom = roundTrip(Object.assign(new Error('m'), { name: 'CustomError' }));
    expect(custom.name).toBe('CustomError');
  });

  it('sends class instances as their own enumerable properties, as structured clone does', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
      norm() {
        return Math.hypot(this.x, this.y);
      }
    }
    expect(roundTrip(new Point(3, 4))).toEqual({ x: 3, y: 4 });
  });

  it('does not let __proto__ keys change prototypes', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const back = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(back)).toEqual(['__proto__']);
  });

  it('refuses what cannot cross, naming the path and the reason', () => {
    const encoder = new ValueEncoder();
    const cases: Array<[unknown, string, RegExp]> = [
      [() => 1, 'argument 0', /function/],
      [{ a: [1, Symbol('s')] }, 'argument 0.a[1]', /symbol/],
      [{ 'odd key': { p: Promise.resolve() } }, 'argument 0["odd key"].p', /Promise; await it/],
      [new Map([[1, new WeakSet()]]), 'argument 0 → Map entry 0', /WeakSet/],
      [new Int32Array(new SharedArrayBuffer(8)), 'argument 0', /SharedArrayBuffer; share memory with Value/],
    ];
    for (const [value, path, reason] of cases) {
      try {
        encoder.write(value, 'argument 0');
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(SerializationError);
        expect((error as SerializationError).path).toBe(path);
        expect((error as SerializationError).message).toMatch(reason);
      }
    }
  });

  it('names a stream, a socket or an emitter as such, wherever it sits', () => {
    const streamAdvice = 'streams and sockets cannot cross to a worker. Pass the data, or a path or URL the worker can open.';
    const listenersAdvice =
      'objects that hold listeners and live in this thread cannot cross to a worker. Pass the data it holds.';
    class LoggingSocket extends Socket {}
    class Job extends EventEmitter {}
    const cases: Array<[unknown, string, string]> = [
      [new Socket(), 'argument 0', `it is a net.Socket (a stream); ${streamAdvice}`],
      [new LoggingSocket(), 'argument 0', `it is a LoggingSocket (a net.Socket) (a stream); ${streamAdvice}`],
      [{ input: Readable.from(['a']) }, 'argument 0.input', `it is a Readable (a stream); ${streamAdvice}`],
      [[1, new PassThrough()], 'argument 0[1]', `it is a PassThrough (a stream); ${streamAdvice}`],
      [{ log: process.stderr }, 'argument 0.log', `it is process.stderr (a stream); ${streamAdvice}`],
      [new ReadableStream(), 'argument 0', `it is a ReadableStream (a web stream); ${streamAdvice}`],
      [new EventEmitter(), 'argument 0', `it is an EventEmitter; ${listenersAdvice}`],
      [new Job(), 'argument 0', `it is a Job (an EventEmitter); ${listenersAdvice}`],
      [createServer(), 'argument 0', `it is a Server (an EventEmitter); ${listenersAdvice}`],
      [new EventTarget(), 'argument 0', `it is an EventTarget; ${listenersAdvice}`],
      [
        new AbortController().signal,
        'argument 0',
        "it is an AbortSignal, which cannot cross to a worker. To cancel a call, pass it as the call's `signal` option.",
      ],
    ];
    const encoder = new ValueEncoder();
    for (const [value, path, reason] of cases) {
      try {
        encoder.write(value, 'argument 0');
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(SerializationError);
        expect({ path: (error as SerializationError).path, reason: (error as SerializationError).reason }).toEqual({
          path,
          reason,
        });
      }
    }
  });

  it('leaves nothing behind when a value fails half-way', () => {
    const encoder = new ValueEncoder();
    encoder.write(1, 'a');
    expect(() => encoder.write([2, 3, () => 4], 'b')).toThrow(SerializationError);
    encoder.write(5, 'c');
    const decoder = new ValueDecoder(encoder.finish());
    expect(decoder.readMany(2)).toEqual([1, 5]);
    expect(decoder.done).toBe(true);
  });

  it('calls a lazy path only on error', () => {
    const encoder = new ValueEncoder();
    let calls = 0;
    encoder.write(1, () => `item ${++calls}`);
    expect(calls).toBe(0);
    expect(() => encoder.write(Symbol('x'), () => `item ${++calls}`)).toThrow('item 1');
  });

  it('carries handles with their attachments and re-binds them', () => {
    const buffer = new SharedArrayBuffer(4);
    const handle = { [toHandle]: () => ({ kind: 'test.kind', state: { id: 7 }, attachments: [buffer] }) };
    const encoder = new ValueEncoder();
    encoder.write({ h: handle, again: handle }, 'v');
    const { attachments } = encoder.takeAttachments();
    const seen: unknown[] = [];
    const back = new ValueDecoder(encoder.finish(), attachments, (kind, state, parts) => {
      seen.push([kind, state, parts[0]]);
      return { rebound: kind };
    }).read() as { h: unknown; again: unknown };
    expect(back.h).toEqual({ rebound: 'test.kind' });
    expect(back.again).toBe(back.h);
    expect(seen).toEqual([['test.kind', { id: 7 }, buffer]]);
    expect(() => {
      const again = new ValueEncoder();
      again.write(handle, 'v');
      new ValueDecoder(again.finish(), []).read();
    }).toThrow(ProtocolError);
  });

  it('rejects malformed input with ProtocolError, never a crash', () => {
    for (const bytes of [[], [0xff], [0x06, 0x05, 0x61], [0x08, 0x7f], [0x11, 0x00], [0x04, 0x01]]) {
      expect(() => new ValueDecoder(new Uint8Array(bytes)).read()).toThrow(ProtocolError);
    }
  });

  it('encodes to the same bytes on every Node version (format version 1 golden vectors)', () => {
    expect(hex(1)).toBe('0401000000');
    expect(hex(-0)).toBe('050000000000000080');
    expect(hex('hé')).toBe('060368c3a9');
    expect(hex([true, null, undefined])).toBe('0803030100');
    expect(hex({ a: 1n })).toBe('09010161070131');
    expect(hex(new Map([[1, 2]]))).toBe('0a0104010000000402000000');
  });
});

describe('ValueDecoder on a Buffer', () => {
  it('copies binary values out of the input, even from a pooled Buffer', () => {
    const encoder = new ValueEncoder();
    encoder.write(new Uint8Array([1, 2, 3]), 'v');
    const pooled = Buffer.from(Buffer.from(encoder.finish()).toString('latin1'), 'latin1');
    const back = new ValueDecoder(pooled).read() as Uint8Array;
    expect([...back]).toEqual([1, 2, 3]);
    expect(back.buffer.byteLength).toBe(3);
  });
});

import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, decodeFrame, encodeFrame } from '../../../lib/codec/protocol.js';
import { ProtocolError } from '../../../lib/errors.js';

describe('protocol frames', () => {
  it('carry a typed message and its payload', () => {
    const payload = new Uint8Array([1, 2, 3]);
    const frame = encodeFrame(
      { type: 'run', chunk: 4, task: { name: 'square', module: 'file:///t.ts' }, count: 1, spread: false },
      payload,
    );
    const { message, payload: back } = decodeFrame(frame);
    expect(message).toEqual({ type: 'run', chunk: 4, task: { name: 'square', module: 'file:///t.ts' }, count: 1, spread: false });
    expect([...back]).toEqual([1, 2, 3]);
  });

  it('refuse bytes that are not a frame, or of another protocol version, with a clear error', () => {
    expect(() => decodeFrame(new Uint8Array([1, 2, 3]))).toThrow(ProtocolError);
    const frame = encodeFrame({ type: 'ready' });
    frame[1] = PROTOCOL_VERSION + 1;
    expect(() => decodeFrame(frame)).toThrow(/protocol version 2 cannot be read by this version \(which speaks 1\)/);
    const truncated = encodeFrame({ type: 'ready' }).subarray(0, 7);
    expect(() => decodeFrame(truncated)).toThrow(/Truncated/);
  });
});

import { describe, expect, it } from 'vitest';
import { BrokenPipeError, Connection, EOFError, InvalidArgumentError, Pipe, SerializationError, ValueError } from 'fanout';
import { ValueDecoder } from '../../../lib/codec/ValueDecoder.js';
import { ValueEncoder } from '../../../lib/codec/ValueEncoder.js';
import { reviveHandle } from '../../../lib/runtime/handles.js';

function crossBoundary<T>(value: T): T {
  const encoder = new ValueEncoder();
  encoder.write(value, 'the value');
  const { attachments } = encoder.takeAttachments();
  return new ValueDecoder(encoder.finish(), attachments, reviveHandle).read() as T;
}

describe('Pipe', () => {
  it('duplex by default: each end receives what the other sent, in order', async () => {
    const [a, b] = Pipe();
    expect([a.readable, a.writable, b.readable, b.writable]).toEqual([true, true, true, true]);
    await a.send(1);
    await a.send({ two: 2 });
    await b.send('back');
    expect(await b.recv()).toBe(1);
    expect(await b.recv()).toEqual({ two: 2 });
    expect(await a.recv()).toBe('back');
  });

  it('checks duplex and poll timeouts', async () => {
    expect(() => Pipe('yes' as never)).toThrow(InvalidArgumentError);
    const [a] = Pipe();
    await expect(a.poll(Number.NaN)).rejects.toThrow(/poll\(timeout\): timeout/);
    await expect(a.poll(-1)).resolves.toBe(false); // a negative timeout counts as zero, as in Python
  });

  it('EOF after the last item once the other end is closed; poll says there is something to read', async () => {
    const [a, b] = Pipe();
    await b.send('last');
    b.close();
    expect(await a.poll()).toBe(true);
    expect(await a.recv()).toBe('last');
    expect(await a.poll()).toBe(true);
    await expect(a.recv()).rejects.toThrow(EOFError);
    await expect(a.send('x')).rejects.toThrow(BrokenPipeError);
  });

  it('a waiting recv ends with EOFError when the other end closes', async () => {
    const [a, b] = Pipe();
    const receiving = a.recv();
    setTimeout(() => b.close(), 20);
    await expect(receiving).rejects.toThrow(EOFError);
  });

  it('a closed connection refuses everything, and cannot be sent', async () => {
    const [a] = Pipe();
    a.close();
    a.close();
    expect(a.closed).toBe(true);
    await expect(a.send(1)).rejects.toThrow(ValueError);
    await expect(a.recv()).rejects.toThrow(/closed/);
    await expect(a.poll()).rejects.toThrow(/closed/);
    expect(() => crossBoundary(a)).toThrow(/closed Connection cannot be sent/);
  });

  it('refuses objects that cannot be sent, naming why', async () => {
    const [a, b] = Pipe();
    await expect(a.send(Symbol('x'))).rejects.toThrow(SerializationError);
    await expect(a.send([b])).rejects.toThrow(/shared object/);
  });

  it('an end crosses a boundary as a handle to the same pipe', async () => {
    const [reader, writer] = Pipe<string>(false);
    const [reader2, writer2] = crossBoundary([reader, writer]);
    expect(reader2).toBeInstanceOf(Connection);
    expect([reader2.readable, reader2.writable, writer2.readable, writer2.writable]).toEqual([true, false, false, true]);
    await writer2.send('via the copy');
    expect(await reader.recv()).toBe('via the copy');
    writer.close();
    await expect(reader2.recv()).rejects.toThrow(EOFError);
  });
});

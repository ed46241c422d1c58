/**
 * Python parity of Connection: `close()` closes only the caller's copy (an end closes with its
 * last copy, as a pipe's file descriptor does), and `sendBytes` / `recvBytes` / `recvBytesInto`
 * follow `multiprocessing.connection.Connection`'s rules.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  BrokenPipeError,
  BufferTooShort,
  EOFError,
  InvalidArgumentError,
  MessageLengthError,
  Pipe,
  Pool,
  Process,
  Queue,
  SerializationError,
  ValueError,
} from 'fanout';
import { closesBorrowed, closesConnection, receivesForEver, sendsAndLeaves, sendsBytes } from '../../fixtures/parityTasks.js';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('close() closes only the caller’s copy', () => {
  it('a copy closed in a process leaves the parent’s copy of that end open, both ways', async () => {
    const [a, b] = Pipe<string>();
    const p = new Process({ target: closesConnection, args: [b] });
    p.start();
    await p.join();
    expect(p.exitCode).toBe(0);
    expect(await a.poll()).toBe(false);
    await b.send('still open');
    expect(await a.recv()).toBe('still open');
    await a.send('back');
    expect(await b.recv()).toBe('back');
    b.close();
    await expect(a.recv()).rejects.toBeInstanceOf(EOFError);
    await expect(a.send('x')).rejects.toBeInstanceOf(BrokenPipeError);
  });

  it('Python’s idiom: the parent closes its copy of the child’s end; EOF once the child has ended without closing', async () => {
    const [parentConn, childConn] = Pipe<number[]>();
    const p = new Process({ target: sendsAndLeaves, args: [childConn, [42]] });
    p.start();
    childConn.close();
    expect(await parentConn.recv()).toEqual([42]);
    await p.join();
    await expect(parentConn.recv()).rejects.toBeInstanceOf(EOFError);
  });

  it('a killed process’s copy is released when it has ended', async () => {
    const [a, b] = Pipe();
    const ready = new Queue<string>();
    const p = new Process({ target: receivesForEver, args: [b, ready] });
    p.start();
    b.close();
    expect(await ready.get()).toBe('waiting');
    expect(await a.poll()).toBe(false);
    p.kill();
    await p.join();
    expect(p.exitCode).toBe(-9);
    await expect(a.recv()).rejects.toBeInstanceOf(EOFError);
    await expect(a.send(1)).rejects.toBeInstanceOf(BrokenPipeError);
  });

  it('the copies made for a process that failed to start are released at once', async () => {
    const [a, b] = Pipe();
    const p = new Process({ target: closesConnection, args: [b, Symbol('cannot be sent')] as never });
    expect(() => p.start()).toThrow(SerializationError);
    b.close();
    // Only the parent's copy was left: the end is closed now.
    expect(await a.poll()).toBe(true);
    await expect(a.recv()).rejects.toBeInstanceOf(EOFError);
  });

  it('each of several processes holds its own copy: the end closes after the last one', async () => {
    const [a, b] = Pipe<string>();
    const first = new Process({ target: sendsAndLeaves, args: [b, 'first'] });
    const second = new Process({ target: closesConnection, args: [b] });
    first.start();
    second.start();
    b.close();
    await second.join();
    expect(await a.recv()).toBe('first');
    await first.join();
    await expect(a.recv()).rejects.toBeInstanceOf(EOFError);
  });

  it('a copy in a pool task borrows the end: closing it there closes that object only', async () => {
    const pool = new Pool(1);
    try {
      const [a, b] = Pipe<string>();
      expect(await pool.apply(closesBorrowed, [b])).toBe(true);
      expect(await a.poll()).toBe(false);
      await b.send('still open');
      expect(await a.recv()).toBe('still open');
      b.close();
      await expect(a.recv()).rejects.toBeInstanceOf(EOFError);
    } finally {
      await pool.terminate();
    }
  });
});

describe('sendBytes, recvBytes and recvBytesInto', () => {
  const [a, b] = Pipe();
  afterAll(() => {
    a.close();
    b.close();
  });

  it('carry bytes, the whole buffer or size bytes from offset; typed arrays count in bytes', async () => {
    await a.sendBytes(bytes(1, 2, 3, 4, 5));
    await a.sendBytes(bytes(1, 2, 3, 4, 5), 1, 3);
    await a.sendBytes(bytes(1, 2, 3, 4, 5), 2);
    await a.sendBytes(new Uint16Array([0x0102, 0x0304]), 1, 2);
    await a.sendBytes(bytes(9, 8).buffer);
    await a.sendBytes(Buffer.from('hi'));
    await a.sendBytes(bytes());
    expect(await b.recvBytes()).toEqual(bytes(1, 2, 3, 4, 5));
    expect(await b.recvBytes()).toEqual(bytes(2, 3, 4));
    expect(await b.recvBytes()).toEqual(bytes(3, 4, 5));
    const u16 = new Uint8Array(new Uint16Array([0x0102, 0x0304]).buffer);
    expect(await b.recvBytes()).toEqual(u16.slice(1, 3));
    expect(await b.recvBytes()).toEqual(bytes(9, 8));
    expect(await b.recvBytes()).toEqual(bytes(0x68, 0x69));
    expect(await b.recvBytes()).toEqual(bytes());
  });

  it('sendBytes: ValueError for a negative or too large offset or size, InvalidArgumentError for non-integers and non-buffers', async () => {
    const five = bytes(1, 2, 3, 4, 5);
    await expect(a.sendBytes(five, -1)).rejects.toThrow(ValueError);
    await expect(a.sendBytes(five, 6)).rejects.toThrow(/shorter than offset 6/);
    await expect(a.sendBytes(five, 0, -1)).rejects.toThrow(/size is negative/);
    await expect(a.sendBytes(five, 2, 4)).rejects.toThrow(/shorter than offset \+ size/);
    await expect(a.sendBytes(five, 1.5)).rejects.toThrow(InvalidArgumentError);
    await expect(a.sendBytes('text' as never)).rejects.toThrow(InvalidArgumentError);
    await a.sendBytes(five, 5);
    await a.sendBytes(five, 2, 3);
    expect(await b.recvBytes()).toEqual(bytes());
    expect(await b.recvBytes()).toEqual(bytes(3, 4, 5));
    expect(await b.poll()).toBe(false);
  });

  it('recvBytesInto writes the message at offset and resolves to its length; BufferTooShort holds a message that does not fit', async () => {
    await a.sendBytes(bytes(7, 8, 9));
    const buffer = new Uint8Array(6);
    expect(await b.recvBytesInto(buffer, 2)).toBe(3);
    expect(buffer).toEqual(bytes(0, 0, 7, 8, 9, 0));
    await a.sendBytes(bytes(1, 2, 3, 4));
    const error = await b.recvBytesInto(new Uint8Array(6), 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BufferTooShort);
    expect((error as BufferTooShort).data).toEqual(bytes(1, 2, 3, 4));
    await expect(b.recvBytesInto(buffer, -1)).rejects.toThrow(/offset is negative/);
    await expect(b.recvBytesInto(buffer, 7)).rejects.toThrow(/past the buffer's end/);
    // A typed array's offset counts bytes, as Python's.
    await a.sendBytes(bytes(5));
    await a.sendBytes(bytes(6));
    const words = new Uint32Array(1);
    await expect(b.recvBytesInto(words, 4)).rejects.toBeInstanceOf(BufferTooShort);
    expect(await b.recvBytesInto(words, 1)).toBe(1);
    expect(new Uint8Array(words.buffer)).toEqual(bytes(0, 6, 0, 0));
  });

  it('recv() refuses a bytes message; recvBytes(maxlength) checks maxlength', async () => {
    await a.sendBytes(bytes(1));
    await expect(b.recv()).rejects.toThrow(/sent with sendBytes\(\)/);
    await expect(b.recvBytes(-1)).rejects.toThrow(/maxlength is negative/);
    await expect(b.recvBytes(0.5)).rejects.toThrow(InvalidArgumentError);
  });
});

describe('recvBytes(maxlength) with a longer message', () => {
  it('on a duplex connection: MessageLengthError, then it can no longer receive, but still sends', async () => {
    const [a, b] = Pipe();
    await a.sendBytes(bytes(1, 2, 3));
    const error = await b.recvBytes(2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageLengthError);
    expect(error).toMatchObject({ code: 'ERR_MESSAGE_LENGTH', length: 3, maxlength: 2 });
    expect(b.readable).toBe(false);
    await expect(b.recvBytes()).rejects.toThrow(/can no longer receive/);
    await b.send('still sends');
    expect(await a.recv()).toBe('still sends');
  });

  it('on a one-way reader: MessageLengthError, then the reader is closed', async () => {
    const [reader, writer] = Pipe(false);
    await writer.sendBytes(bytes(1, 2, 3));
    await expect(reader.recvBytes(2)).rejects.toBeInstanceOf(MessageLengthError);
    expect(reader.closed).toBe(true);
    await expect(writer.sendBytes(bytes(1))).rejects.toBeInstanceOf(BrokenPipeError);
  });

  it('a message of exactly maxlength bytes is received', async () => {
    const [a, b] = Pipe();
    await a.sendBytes(bytes(1, 2));
    expect(await b.recvBytes(2)).toEqual(bytes(1, 2));
  });
});

describe('bytes across processes', () => {
  it('a process sends bytes, the parent reads them, then EOF', async () => {
    const [parentConn, childConn] = Pipe();
    const p = new Process({ target: sendsBytes, args: [childConn, ['one', 'two']] });
    p.start();
    childConn.close();
    const decoder = new TextDecoder();
    expect(decoder.decode(await parentConn.recvBytes())).toBe('one');
    const buffer = new Uint8Array(8);
    const length = await parentConn.recvBytesInto(buffer);
    expect(decoder.decode(buffer.subarray(0, length))).toBe('two');
    await p.join();
    await expect(parentConn.recvBytes()).rejects.toBeInstanceOf(EOFError);
  });
});

import { Deadline } from '../backend/Deadline.js';
import type { ChannelEngine } from '../backend/ChannelEngine.js';
import type { Handle, HandleDescriptor } from '../codec/ValueEncoder.js';
import { toHandle } from '../codec/tags.js';
import { BufferTooShort, EOFError, InvalidArgumentError, MessageLengthError, ValueError } from '../errors.js';
import { checkHandleTarget } from './handleTarget.js';
import { decodeItem, encodeItem } from './itemCodec.js';

/**
 * A channel that counts the copies of its ends (the local one does): an end closes with its last
 * copy. Ends are numbered as their counts: 0 the reading end, 1 the writing end.
 */
interface CopyCountingChannel {
  /** The token of the copy this channel object was revived for (undefined: not a counted copy). */
  readonly arrivedToken: unknown;
  copyEnd(end: 0 | 1): unknown;
  releaseEnd(end: 0 | 1, token: unknown): void;
}

const READER = 0;
const WRITER = 1;

function countsCopies(channel: ChannelEngine | undefined): channel is ChannelEngine & CopyCountingChannel {
  return channel !== undefined && typeof (channel as Partial<CopyCountingChannel>).copyEnd === 'function';
}

/** The first byte of a message sent with `sendBytes` (an encoded object never starts with it). */
const BYTES_MESSAGE = 0xfb;

/** Releases of the end copies made while encoding a Process's arguments (see {@link collectEndCopies}). */
let endCopies: Array<() => void> | undefined;

/**
 * Runs `encode` (the encoding of a Process's arguments) and returns the releases of the copies of
 * pipe ends it made: the Process calls them when the process has ended, however it ended, as an
 * OS closes a dead process's file descriptors. If `encode` throws, the copies are released at once.
 *
 * @example
 * ```ts
 * const releases = collectEndCopies(() => encoder.write(args, 'the arguments'));
 * void engine.exited.then(() => releases.forEach((release) => release()));
 * ```
 */
export function collectEndCopies(encode: () => void): Array<() => void> {
  const previous = endCopies;
  const releases: Array<() => void> = [];
  endCopies = releases;
  try {
    encode();
  } catch (error) {
    for (const release of releases) release();
    throw error;
  } finally {
    endCopies = previous;
  }
  return releases;
}

/**
 * One end of a {@link Pipe}, as Python's `multiprocessing.connection.Connection`: `send` an object
 * to the other end, `recv` what the other end sent, in order; `sendBytes` / `recvBytes` /
 * `recvBytesInto` carry raw bytes. Pass it to a `Process` or a pool task as an argument: it works
 * there.
 *
 * Each Connection object is one copy of its end, as a file descriptor is: `close()` closes this
 * copy only. The end itself closes when every copy is closed: the pipe's own, and each one sent
 * to a process (closed by `close()` there, or when that process ends). Then the other end's
 * `recv` raises `EOFError` once it has read everything sent before, and its `send` raises
 * `BrokenPipeError`. So, as in Python, close the parent's copy of the child's end after starting
 * the child, to see EOF when the child is done. A copy passed to a pool task borrows the end:
 * closing it there closes only that object.
 *
 * @example
 * ```ts
 * const [parentConn, childConn] = Pipe();
 * new Process({ target: f, args: [childConn] }).start(); // f: await conn.send([42, null, 'hello'])
 * childConn.close(); // the child holds its own copy
 * await parentConn.recv(); // [42, null, 'hello']
 * await parentConn.recv().catch((e) => e.name); // 'EOFError' once the child has ended
 * ```
 */
export class Connection<T = unknown> implements Handle {
  private closedHere = false;
  /** False once a too-long message made a duplex connection unable to receive (Python's rule). */
  private receiving = true;
  /**
   * Whether this copy counts towards keeping its ends open: the pipe's first copies and copies
   * sent to a process do; copies passed to pool tasks borrow their ends.
   */
  private readonly counted: boolean;

  /**
   * `first`: made by `Pipe()` (its first copies); otherwise a copy revived from a handle.
   * Applications make Connections with {@link Pipe}.
   */
  constructor(
    private readonly receiver: ChannelEngine | undefined,
    private readonly sender: ChannelEngine | undefined,
    first = false,
  ) {
    const channel = receiver ?? sender;
    this.counted = first || (countsCopies(channel) && channel.arrivedToken !== undefined);
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.receiver !== undefined && this.receiving;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.sender !== undefined;
  }

  /** Whether `close()` was called on this object. */
  get closed(): boolean {
    return this.closedHere;
  }

  /**
   * Sends an object to the other end (copied with fanout's codec).
   *
   * @example
   * ```ts
   * await conn.send({ step: 1 });
   * ```
   */
  async send(obj: T): Promise<void> {
    this.checkOpen();
    const sender = this.writableChannel();
    await sender.send(encodeItem(obj, 'the object'));
  }

  /**
   * Receives the next object the other end sent, waiting for one. Throws `EOFError` when the
   * other end is closed and nothing is left.
   *
   * @example
   * ```ts
   * const message = await conn.recv();
   * ```
   */
  async recv(): Promise<T> {
    const item = await this.receive();
    if (item[0] === BYTES_MESSAGE) {
      throw new ValueError('recv() received a message sent with sendBytes(): read such messages with recvBytes().');
    }
    return decodeItem(item) as T;
  }

  /**
   * Sends bytes as one message: `size` bytes of `buffer` from byte `offset` (all of it by
   * default), as Python's `send_bytes`. The other end reads them with `recvBytes` or
   * `recvBytesInto`. `ValueError` if `offset` or `size` is negative or past the buffer's end.
   *
   * @example
   * ```ts
   * await conn.sendBytes(new TextEncoder().encode('hello'));
   * await conn.sendBytes(bytes, 2, 3); // bytes[2..5)
   * ```
   */
  async sendBytes(buffer: ArrayBufferView | ArrayBufferLike, offset = 0, size?: number): Promise<void> {
    this.checkOpen();
    const sender = this.writableChannel();
    const bytes = bytesOf('connection.sendBytes(buffer, offset, size): buffer', buffer);
    checkInteger('connection.sendBytes(buffer, offset, size): offset', offset);
    if (offset < 0) throw new ValueError(`connection.sendBytes(): offset is negative (${offset}).`);
    if (bytes.length < offset) {
      throw new ValueError(`connection.sendBytes(): the buffer (${bytes.length} bytes) is shorter than offset ${offset}.`);
    }
    if (size !== undefined) {
      checkInteger('connection.sendBytes(buffer, offset, size): size', size);
      if (size < 0) throw new ValueError(`connection.sendBytes(): size is negative (${size}).`);
      if (offset + size > bytes.length) {
        throw new ValueError(
          `connection.sendBytes(): the buffer (${bytes.length} bytes) is shorter than offset + size (${offset} + ${size}).`,
        );
      }
    }
    const end = size === undefined ? bytes.length : offset + size;
    const message = new Uint8Array(1 + end - offset);
    message[0] = BYTES_MESSAGE;
    message.set(bytes.subarray(offset, end), 1);
    await sender.send(message);
  }

  /**
   * Receives the next message as bytes, waiting for one, as Python's `recv_bytes`. Throws
   * `EOFError` when the other end is closed and nothing is left; `MessageLengthError` if the
   * message is longer than `maxlength` (then, as in Python, this connection can no longer receive).
   *
   * @example
   * ```ts
   * const bytes = await conn.recvBytes();
   * const small = await conn.recvBytes(1024);
   * ```
   */
  async recvBytes(maxlength?: number): Promise<Uint8Array> {
    this.checkOpen();
    if (maxlength !== undefined) {
      checkInteger('connection.recvBytes(maxlength): maxlength', maxlength);
      if (maxlength < 0) throw new ValueError(`connection.recvBytes(): maxlength is negative (${maxlength}).`);
    }
    const data = bytesOfMessage(await this.receive());
    if (maxlength !== undefined && data.length > maxlength) {
      if (this.writable) this.receiving = false;
      else this.close();
      throw new MessageLengthError(data.length, maxlength);
    }
    return data;
  }

  /**
   * Receives the next message into `buffer` from byte `offset`, waiting for one, and resolves to
   * its length in bytes, as Python's `recv_bytes_into`. Throws `BufferTooShort` (holding the
   * message) if it does not fit, `EOFError` when the other end is closed and nothing is left, and
   * `ValueError` if `offset` is negative or past the buffer's end.
   *
   * @example
   * ```ts
   * const buffer = new Uint8Array(64);
   * const length = await conn.recvBytesInto(buffer);
   * ```
   */
  async recvBytesInto(buffer: ArrayBufferView | ArrayBufferLike, offset = 0): Promise<number> {
    this.checkOpen();
    const target = bytesOf('connection.recvBytesInto(buffer, offset): buffer', buffer);
    checkInteger('connection.recvBytesInto(buffer, offset): offset', offset);
    if (offset < 0) throw new ValueError(`connection.recvBytesInto(): offset is negative (${offset}).`);
    if (offset > target.length) {
      throw new ValueError(`connection.recvBytesInto(): offset ${offset} is past the buffer's end (${target.length} bytes).`);
    }
    const data = bytesOfMessage(await this.receive());
    if (target.length - offset < data.length) throw new BufferTooShort(data, target.length - offset);
    target.set(data, offset);
    return data.length;
  }

  /**
   * Whether there is something to `recv` (an object, or the end of the pipe): at once when
   * `timeout` is omitted or 0, after waiting up to `timeout` ms, or for as long as it takes with
   * `null` (Python's `poll(None)`).
   *
   * @example
   * ```ts
   * if (await conn.poll(100)) console.log(await conn.recv());
   * ```
   */
  async poll(timeout: number | null = 0): Promise<boolean> {
    this.checkOpen();
    // A negative timeout counts as zero, as in Python.
    if (timeout !== null && (typeof timeout !== 'number' || Number.isNaN(timeout))) {
      throw new InvalidArgumentError(
        'connection.poll(timeout): timeout',
        timeout,
        'a number of milliseconds (≤ 0: do not wait), or null to wait for ever',
      );
    }
    return this.readableChannel().poll(timeout === null ? Deadline.never : Deadline.after(timeout));
  }

  /**
   * Closes this copy of the end. The end itself closes with its last copy: then the other end's
   * `recv` raises `EOFError` after the last object, and its `send` raises `BrokenPipeError`.
   * Closing twice does nothing.
   *
   * @example
   * ```ts
   * conn.close();
   * ```
   */
  close(): void {
    if (this.closedHere) return;
    this.closedHere = true;
    const sender = this.sender;
    const receiver = this.receiver;
    if (countsCopies(sender) || countsCopies(receiver)) {
      if (!this.counted) return;
      if (countsCopies(sender)) sender.releaseEnd(WRITER, sender.arrivedToken);
      if (countsCopies(receiver)) receiver.releaseEnd(READER, receiver.arrivedToken);
      return;
    }
    // A backend that does not count copies: closing any copy closes the end.
    sender?.closeSender();
    receiver?.closeReceiver();
  }

  [toHandle](): HandleDescriptor {
    const backendName = (this.receiver ?? this.sender)!.backendName;
    checkHandleTarget('Connection', backendName);
    if (this.closedHere) throw new ValueError('A closed Connection cannot be sent: it would be closed there too.');
    const receiver = this.receiver?.handle();
    const sender = this.sender?.handle();
    const receiverAttachments = [...(receiver?.attachments ?? [])];
    const senderAttachments = [...(sender?.attachments ?? [])];
    // A copy sent to a process counts as one more copy of each of its ends, until released. A
    // token that is text (the aws backend's) travels in the state, across the network; others
    // (the local backend's shared memory) as attachments.
    const copies = endCopies;
    const copy = (channel: ChannelEngine | undefined, end: 0 | 1, attachments: unknown[]): { token?: string } => {
      if (!copies || !countsCopies(channel)) return {};
      const token = channel.copyEnd(end);
      copies.push(() => channel.releaseEnd(end, token));
      if (typeof token === 'string') return { token };
      attachments.push(token);
      return {};
    };
    const receiverCopy = copy(this.receiver, READER, receiverAttachments);
    const senderCopy = copy(this.sender, WRITER, senderAttachments);
    return {
      kind: `${backendName}.connection`,
      state: {
        receiver: receiver ? { state: receiver.state, attachments: receiverAttachments.length, ...receiverCopy } : null,
        sender: sender ? { state: sender.state, ...senderCopy } : null,
      },
      attachments: [...receiverAttachments, ...senderAttachments],
      transfer: [...(receiver?.transfer ?? []), ...(sender?.transfer ?? [])],
    };
  }

  private checkOpen(): void {
    if (this.closedHere) throw new ValueError('The connection is closed: close() was called on this object.');
  }

  private writableChannel(): ChannelEngine {
    if (!this.sender) throw new ValueError('This connection is read-only: it is the receiving end of a one-way Pipe(false).');
    return this.sender;
  }

  private readableChannel(): ChannelEngine {
    if (!this.receiver) throw new ValueError('This connection is write-only: it is the sending end of a one-way Pipe(false).');
    if (!this.receiving) {
      throw new ValueError('This connection can no longer receive: recvBytes(maxlength) dropped a message too long for it.');
    }
    return this.receiver;
  }

  /** The next message's bytes, waiting for one; `EOFError` at the end of the pipe. */
  private async receive(): Promise<Uint8Array> {
    this.checkOpen();
    const received = await this.readableChannel().recv(Deadline.never);
    if (received === 'eof' || received === 'timeout') throw new EOFError();
    return received.item;
  }
}

/** The bytes of a `sendBytes` message; an object's message as its encoded bytes (Python's recv_bytes of a pickle). */
function bytesOfMessage(item: Uint8Array): Uint8Array {
  return item[0] === BYTES_MESSAGE ? item.slice(1) : item;
}

/** A bytes-like argument as a byte view over the same memory. */
function bytesOf(option: string, buffer: unknown): Uint8Array {
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buffer instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer)) {
    return new Uint8Array(buffer);
  }
  throw new InvalidArgumentError(option, buffer, 'a Uint8Array, Buffer, another typed array, a DataView or an ArrayBuffer');
}

function checkInteger(option: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new InvalidArgumentError(option, value, 'an integer');
}

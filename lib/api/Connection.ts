import { Deadline } from '../backend/Deadline.js';
import type { ChannelEngine } from '../backend/ChannelEngine.js';
import type { Handle, HandleDescriptor } from '../codec/ValueEncoder.js';
import { toHandle } from '../codec/tags.js';
import { EOFError, InvalidArgumentError, ValueError } from '../errors.js';
import { checkHandleTarget } from './handleTarget.js';
import { decodeItem, encodeItem } from './itemCodec.js';

/**
 * One end of a {@link Pipe}, as Python's `multiprocessing.connection.Connection`: `send` an object
 * to the other end, `recv` what the other end sent, in order. Pass it to a `Process` or a pool task
 * as an argument: it works there.
 *
 * `close()` closes this end for every holder of it: the other end's `recv` then raises `EOFError`
 * once it has read everything sent before (Python does so once every copy of the end is closed).
 *
 * @example
 * ```ts
 * const [parentConn, childConn] = Pipe();
 * new Process({ target: f, args: [childConn] }).start(); // f: await conn.send([42, null, 'hello'])
 * await parentConn.recv(); // [42, null, 'hello']
 * ```
 */
export class Connection<T = unknown> implements Handle {
  private closedHere = false;

  constructor(
    private readonly receiver: ChannelEngine | undefined,
    private readonly sender: ChannelEngine | undefined,
  ) {}

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.receiver !== undefined;
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
    if (!this.sender) throw new ValueError('This connection is read-only: it is the receiving end of a one-way Pipe(false).');
    await this.sender.send(encodeItem(obj, 'the object', this.sender.backendName));
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
    this.checkOpen();
    if (!this.receiver) throw new ValueError('This connection is write-only: it is the sending end of a one-way Pipe(false).');
    const received = await this.receiver.recv(Deadline.never);
    if (received === 'eof' || received === 'timeout') throw new EOFError();
    return decodeItem(received.item) as T;
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
    if (!this.receiver) throw new ValueError('This connection is write-only: it is the sending end of a one-way Pipe(false).');
    return this.receiver.poll(timeout === null ? Deadline.never : Deadline.after(timeout));
  }

  /**
   * Closes this end: the other end's `recv` raises `EOFError` after the last object, and its
   * `send` raises `BrokenPipeError`. Closing twice does nothing.
   *
   * @example
   * ```ts
   * conn.close();
   * ```
   */
  close(): void {
    if (this.closedHere) return;
    this.closedHere = true;
    this.sender?.closeSender();
    this.receiver?.closeReceiver();
  }

  [toHandle](): HandleDescriptor {
    const backendName = (this.receiver ?? this.sender)!.backendName;
    checkHandleTarget('Connection', backendName);
    if (this.closedHere) throw new ValueError('A closed Connection cannot be sent: it would be closed there too.');
    const receiver = this.receiver?.handle();
    const sender = this.sender?.handle();
    const receiverAttachments = receiver?.attachments ?? [];
    return {
      kind: `${backendName}.connection`,
      state: {
        receiver: receiver ? { state: receiver.state, attachments: receiverAttachments.length } : null,
        sender: sender ? { state: sender.state } : null,
      },
      attachments: [...receiverAttachments, ...(sender?.attachments ?? [])],
      transfer: [...(receiver?.transfer ?? []), ...(sender?.transfer ?? [])],
    };
  }

  private checkOpen(): void {
    if (this.closedHere) throw new ValueError('The connection is closed: close() was called on this object.');
  }
}

import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import type { Deadline } from './Deadline.js';

/** What {@link ChannelEngine.recv} found. */
export type Received = { item: Uint8Array } | 'eof' | 'timeout';

/**
 * One direction of a pipe on a backend (the SPI behind `Connection`): encoded items go in at one
 * end and come out, in order, at the other. A duplex pipe is two channels.
 *
 * @example
 * ```ts
 * const channel = backend.createChannel!();
 * await channel.send(bytes);
 * await channel.recv(Deadline.never); // { item: bytes }
 * ```
 */
export interface ChannelEngine {
  readonly backendName: string;
  /** Appends an item. Rejects with `BrokenPipeError` when the receiving end is closed. */
  send(item: Uint8Array): Promise<void>;
  /** The next item, `'eof'` once the sending end is closed and nothing is left, or `'timeout'` at `deadline`. */
  recv(deadline: Deadline): Promise<Received>;
  /** True once an item or the end is there to be read; false at `deadline`. */
  poll(deadline: Deadline): Promise<boolean>;
  /** Closes the sending end: the reader gets EOF after the last item. */
  closeSender(): void;
  /** Closes the receiving end: sending fails from now on. */
  closeReceiver(): void;
  handle(): Omit<HandleDescriptor, 'state'> & { state: Record<string, unknown> };
}

import type { ChannelEngine, Received } from '../../backend/ChannelEngine.js';
import { BrokenPipeError, ValueError } from '../../errors.js';
import { RECHECK_MS } from './LocalQueueEngine.js';
import { Flag, MAX_RING_BYTES, PutResult, SharedRing, Word } from './SharedRing.js';
import { Deadline } from '../../backend/Deadline.js';
import { waitForChange } from './waitForChange.js';

/** An end of a channel, as an index into its count of open copies. */
export const ChannelEnd = { Reader: 0, Writer: 1 } as const;
export type ChannelEnd = (typeof ChannelEnd)[keyof typeof ChannelEnd];

/** The handle kind of one direction of a local pipe. */
export const LOCAL_CHANNEL_KIND = 'local.channel';

/**
 * One direction of a local pipe: a {@link SharedRing} plus two flags, one per end, so that the
 * reader sees EOF once the sender closed and the ring is drained, and the sender sees a broken
 * pipe once the reader closed. Unlike an OS pipe it has no small fixed buffer: `send` never waits.
 * Each end counts its open copies (a Connection sent to a process is one more), and closes with
 * the last of them.
 *
 * @example
 * ```ts
 * const channel = LocalChannelEngine.create();
 * await channel.send(bytes);
 * await channel.recv(Infinity); // { item: bytes }
 * ```
 */
export class LocalChannelEngine implements ChannelEngine {
  readonly backendName = 'local';
  /** The copy token this engine arrived with, when it was revived for a counted copy of an end. */
  readonly arrivedToken: SharedArrayBuffer | undefined;
  /** Open copies of each end: `[readers, writers]` (see {@link copyEnd}). */
  private readonly ends: Int32Array;

  private constructor(
    private readonly ring: SharedRing,
    ends: SharedArrayBuffer,
    arrivedToken?: SharedArrayBuffer,
  ) {
    // `poll` waits without taking an item: every waiter must hear of each put.
    ring.wakeAll = true;
    this.ends = new Int32Array(ends);
    this.arrivedToken = arrivedToken;
  }

  static create(): LocalChannelEngine {
    const ends = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
    new Int32Array(ends).fill(1);
    return new LocalChannelEngine(SharedRing.create(), ends);
  }

  /** Re-binds a channel from its handle's attachments, and the copy token after them if there is one. */
  static fromHandle(attachments: unknown[]): LocalChannelEngine {
    const [control, data, ends, token] = attachments as [
      SharedArrayBuffer,
      SharedArrayBuffer,
      SharedArrayBuffer,
      SharedArrayBuffer | undefined,
    ];
    return new LocalChannelEngine(SharedRing.attach(control, data), ends, token);
  }

  handle(): { kind: string; state: Record<string, unknown>; attachments: unknown[] } {
    return { kind: LOCAL_CHANNEL_KIND, state: {}, attachments: [...this.ring.buffers(), this.ends.buffer] };
  }

  /**
   * Counts one more copy of an end (one sent to a process), and returns its token: whoever
   * releases the copy first (the copy's `close()`, or its process ending) releases it, once.
   * Called while the caller's own copy is open, so the count never passes through zero.
   */
  copyEnd(end: ChannelEnd): SharedArrayBuffer {
    Atomics.add(this.ends, end, 1);
    const token = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    new Int32Array(token)[0] = 1;
    return token;
  }

  /**
   * Releases a copy of an end: the one with `token`, or (token undefined) one of the pipe's
   * first two copies. When the last copy of an end is released, the end closes, as a pipe's
   * file descriptor does when its last duplicate is closed.
   */
  releaseEnd(end: ChannelEnd, token: SharedArrayBuffer | undefined): void {
    if (token !== undefined && Atomics.compareExchange(new Int32Array(token), 0, 1, 0) !== 1) return;
    if (Atomics.sub(this.ends, end, 1) !== 1) return;
    if (end === ChannelEnd.Reader) this.closeReceiver();
    else this.closeSender();
  }

  async send(item: Uint8Array): Promise<void> {
    if ((this.ring.flags & Flag.ReaderClosed) !== 0) throw new BrokenPipeError();
    if (item.length + 4 > MAX_RING_BYTES) {
      throw new ValueError(
        `The object is too large for a pipe: ${item.length} bytes encoded; at most ${MAX_RING_BYTES - 4} fit.`,
      );
    }
    const control = this.ring.control;
    // Only a pipe holding a gigabyte unread has no room: wait for the reader, as an OS pipe does.
    for (;;) {
      const seen = Atomics.load(control, Word.GetSeq);
      if (this.ring.tryPut(item, 0, false) === PutResult.Done) return;
      if ((this.ring.flags & Flag.ReaderClosed) !== 0) throw new BrokenPipeError();
      Atomics.add(control, Word.Putters, 1);
      try {
        await waitForChange(control, Word.GetSeq, seen, Deadline.never, RECHECK_MS);
      } finally {
        Atomics.sub(control, Word.Putters, 1);
      }
    }
  }

  async recv(deadline: Deadline): Promise<Received> {
    const control = this.ring.control;
    for (;;) {
      const seen = Atomics.load(control, Word.PutSeq);
      const item = this.ring.tryGet();
      if (item !== undefined) return { item };
      // The flag is read after the ring was found empty, and set after the sender's last put.
      if ((this.ring.flags & Flag.WriterClosed) !== 0 && this.ring.count === 0) return 'eof';
      if (deadline.expired()) return 'timeout';
      await this.waitForPut(seen, deadline);
    }
  }

  async poll(deadline: Deadline): Promise<boolean> {
    const control = this.ring.control;
    for (;;) {
      const seen = Atomics.load(control, Word.PutSeq);
      if (this.ring.count > 0 || (this.ring.flags & Flag.WriterClosed) !== 0) return true;
      if (deadline.expired()) return false;
      await this.waitForPut(seen, deadline);
    }
  }

  private async waitForPut(seen: number, deadline: Deadline): Promise<void> {
    const control = this.ring.control;
    Atomics.add(control, Word.Getters, 1);
    try {
      await waitForChange(control, Word.PutSeq, seen, deadline, RECHECK_MS);
    } finally {
      Atomics.sub(control, Word.Getters, 1);
    }
  }

  closeSender(): void {
    this.ring.setFlag(Flag.WriterClosed);
  }

  closeReceiver(): void {
    this.ring.setFlag(Flag.ReaderClosed);
  }
}

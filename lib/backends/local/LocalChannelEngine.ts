import type { ChannelEngine, Received } from '../../backend/ChannelEngine.js';
import { BrokenPipeError, ValueError } from '../../errors.js';
import { RECHECK_MS } from './LocalQueueEngine.js';
import { Flag, MAX_RING_BYTES, PutResult, SharedRing, Word } from './SharedRing.js';
import { Deadline } from '../../backend/Deadline.js';
import { waitForChange } from './waitForChange.js';

/** The handle kind of one direction of a local pipe. */
export const LOCAL_CHANNEL_KIND = 'local.channel';

/**
 * One direction of a local pipe: a {@link SharedRing} plus two flags, one per end, so that the
 * reader sees EOF once the sender closed and the ring is drained, and the sender sees a broken
 * pipe once the reader closed. Unlike an OS pipe it has no small fixed buffer: `send` never waits.
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

  private constructor(private readonly ring: SharedRing) {
    // `poll` waits without taking an item: every waiter must hear of each put.
    ring.wakeAll = true;
  }

  static create(): LocalChannelEngine {
    return new LocalChannelEngine(SharedRing.create());
  }

  static fromHandle(attachments: unknown[]): LocalChannelEngine {
    const [control, data] = attachments as [SharedArrayBuffer, SharedArrayBuffer];
    return new LocalChannelEngine(SharedRing.attach(control, data));
  }

  handle(): { kind: string; state: Record<string, unknown>; attachments: unknown[] } {
    return { kind: LOCAL_CHANNEL_KIND, state: {}, attachments: this.ring.buffers() };
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

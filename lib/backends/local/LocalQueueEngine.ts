import { Deadline } from '../../backend/Deadline.js';
import type { QueueEngine, QueueEngineOptions } from '../../backend/QueueEngine.js';
import { ValueError } from '../../errors.js';
import { MAX_RING_BYTES, PutResult, SharedRing, Word } from './SharedRing.js';
import { waitForChange } from './waitForChange.js';

/** The handle kind of a local queue. */
export const LOCAL_QUEUE_KIND = 'local.queue';
/**
 * A waiter looks again at least this often even without a wake-up, so that a wake-up lost to a
 * thread that was stopped while it waited can never leave an item unclaimed.
 */
export const RECHECK_MS = 250;

/**
 * A queue in shared memory ({@link SharedRing}), usable from every thread it is passed to: the
 * main thread, processes and pool workers. Puts and gets are synchronous copies under short
 * locks (one for the putters, one for the getters, so that a producer and a consumer never wait
 * for each other); a call that must wait (for an item, for room, for `join`) waits with
 * `Atomics.waitAsync`, so the event loop runs on.
 *
 * Why shared memory rather than a broker thread reached through MessagePorts: its state is only
 * SharedArrayBuffers, which clone to any number of threads (a MessagePort can be transferred only
 * once), and an item costs one copy in and one copy out, with no round trip through a third thread.
 *
 * @example
 * ```ts
 * const engine = LocalQueueEngine.create({ maxsize: 0, joinable: false });
 * await engine.put(bytes, { block: true, timeout: undefined });
 * ```
 */
export class LocalQueueEngine implements QueueEngine {
  readonly backendName = 'local';

  private constructor(
    private readonly ring: SharedRing,
    readonly maxsize: number,
    readonly joinable: boolean,
  ) {}

  static create(options: QueueEngineOptions): LocalQueueEngine {
    return new LocalQueueEngine(SharedRing.create(), options.maxsize, options.joinable);
  }

  /** Re-binds a queue from its handle, in another thread. */
  static fromHandle(state: { maxsize: number; joinable: boolean }, attachments: unknown[]): LocalQueueEngine {
    const [control, data] = attachments as [SharedArrayBuffer, SharedArrayBuffer];
    return new LocalQueueEngine(SharedRing.attach(control, data), state.maxsize, state.joinable);
  }

  handle(): { kind: string; state: Record<string, unknown>; attachments: unknown[] } {
    return {
      kind: LOCAL_QUEUE_KIND,
      state: { maxsize: this.maxsize, joinable: this.joinable },
      attachments: this.ring.buffers(),
    };
  }

  put(item: Uint8Array, deadline: Deadline): boolean | Promise<boolean> {
    if (this.ring.tryPut(item, this.maxsize, this.joinable) === PutResult.Done) return true;
    if (item.length + 4 > MAX_RING_BYTES) {
      throw new ValueError(`The item is too large for a queue: ${item.length} bytes encoded; at most ${MAX_RING_BYTES - 4} fit.`);
    }
    if (deadline.expired()) return false;
    return this.waitToPut(item, deadline);
  }

  private async waitToPut(item: Uint8Array, deadline: Deadline): Promise<boolean> {
    const control = this.ring.control;
    for (;;) {
      const seen = Atomics.load(control, Word.GetSeq);
      if (this.ring.tryPut(item, this.maxsize, this.joinable) === PutResult.Done) return true;
      if (deadline.expired()) return false;
      Atomics.add(control, Word.Putters, 1);
      try {
        await waitForChange(control, Word.GetSeq, seen, deadline, RECHECK_MS);
      } finally {
        Atomics.sub(control, Word.Putters, 1);
      }
    }
  }

  get(deadline: Deadline): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    const item = this.ring.tryGet();
    if (item !== undefined || deadline.expired()) return item;
    return this.waitToGet(deadline);
  }

  private async waitToGet(deadline: Deadline): Promise<Uint8Array | undefined> {
    const control = this.ring.control;
    for (;;) {
      const seen = Atomics.load(control, Word.PutSeq);
      const item = this.ring.tryGet();
      if (item !== undefined) return item;
      if (deadline.expired()) return undefined;
      Atomics.add(control, Word.Getters, 1);
      try {
        await waitForChange(control, Word.PutSeq, seen, deadline, RECHECK_MS);
      } finally {
        Atomics.sub(control, Word.Getters, 1);
      }
    }
  }

  size(): Promise<number> {
    return Promise.resolve(this.ring.count);
  }

  taskDone(): Promise<boolean> {
    return Promise.resolve(this.ring.taskDone());
  }

  async join(): Promise<void> {
    const control = this.ring.control;
    const seen = Atomics.load(control, Word.ZeroSeq);
    while (Atomics.load(control, Word.Unfinished) !== 0 && Atomics.load(control, Word.ZeroSeq) === seen) {
      await waitForChange(control, Word.ZeroSeq, seen, Deadline.never, RECHECK_MS);
    }
  }
}

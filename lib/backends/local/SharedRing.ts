import { growableSharedBuffer, type GrowableSharedArrayBuffer } from './es2024.js';
import { lockWord, unlockWord } from './futex.js';

/** Indexes of the ring's control words (Int32). */
export const Word = {
  Lock: 0,
  Head: 1,
  Tail: 2,
  /** Bytes in use, item headers included. */
  Used: 3,
  /** Items in the ring. */
  Count: 4,
  /** Bumped after every put: getters wait on it. */
  PutSeq: 5,
  /** Bumped after every get: putters waiting for room wait on it. */
  GetSeq: 6,
  /** Threads waiting on PutSeq / GetSeq: a put or get calls `Atomics.notify` only when someone waits. */
  Getters: 7,
  Putters: 8,
  /** Items put and not yet marked done (JoinableQueue). */
  Unfinished: 9,
  /** Bumped each time Unfinished falls to zero: `join()` waits on it. */
  ZeroSeq: 10,
  /** Bit flags, see {@link Flag}. */
  Flags: 11,
  /** Current size in bytes of the data buffer. */
  Capacity: 12,
} as const;
const CONTROL_WORDS = 16;

/** Bits of the Flags word. */
export const Flag = {
  /** The sending end of a pipe was closed: a reader that finds the ring empty gets EOF. */
  WriterClosed: 1,
  /** The receiving end of a pipe was closed: sending is refused. */
  ReaderClosed: 2,
} as const;

const INITIAL_BYTES = 64 * 1024;
/**
 * The data buffer grows up to this size (its address space is reserved up front, not its memory).
 * A put that would need more waits for room, as on a bounded queue.
 */
export const MAX_RING_BYTES = 1024 * 1024 * 1024;
const HEADER_BYTES = 4;

/** What {@link SharedRing.tryPut} did. */
export const PutResult = { Done: 0, NoRoom: 1 } as const;

/**
 * A many-producer, many-consumer FIFO of byte strings in shared memory: a ring of
 * `[u32 length][bytes]` records in a growable SharedArrayBuffer, plus a control block of Int32
 * words. Every operation is synchronous and short; a mutex word guards the indexes and the copy.
 * Because its state is only SharedArrayBuffers, a ring can be cloned to any number of threads.
 *
 * Waiting (for items, for room, for `join`) is left to the callers, on the sequence words.
 *
 * @example
 * ```ts
 * const ring = SharedRing.create();
 * ring.tryPut(new Uint8Array([1, 2, 3]), 0, false);
 * ring.tryGet(); // Uint8Array [1, 2, 3]
 * const copy = SharedRing.attach(ring.control.buffer as SharedArrayBuffer, ring.dataBuffer);
 * ```
 */
export class SharedRing {
  readonly control: Int32Array;
  /** Length-tracking: it sees the buffer grow, whichever thread grew it. */
  private readonly data: Uint8Array;

  private constructor(
    controlBuffer: SharedArrayBuffer,
    readonly dataBuffer: GrowableSharedArrayBuffer,
  ) {
    this.control = new Int32Array(controlBuffer);
    this.data = new Uint8Array(dataBuffer);
  }

  /** A new, empty ring. */
  static create(): SharedRing {
    const control = new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT);
    const data = growableSharedBuffer(INITIAL_BYTES, MAX_RING_BYTES);
    const ring = new SharedRing(control, data);
    Atomics.store(ring.control, Word.Capacity, INITIAL_BYTES);
    return ring;
  }

  /** The same ring, in another thread, from its two buffers. */
  static attach(control: SharedArrayBuffer, data: SharedArrayBuffer): SharedRing {
    return new SharedRing(control, data as GrowableSharedArrayBuffer);
  }

  /** The buffers that make up the ring (what a handle carries). */
  buffers(): [SharedArrayBuffer, SharedArrayBuffer] {
    return [this.control.buffer as SharedArrayBuffer, this.dataBuffer];
  }

  get count(): number {
    return Atomics.load(this.control, Word.Count);
  }

  get flags(): number {
    return Atomics.load(this.control, Word.Flags);
  }

  setFlag(flag: number): void {
    Atomics.or(this.control, Word.Flags, flag);
    // Whoever waits for an item must look again: it may now be at its end.
    Atomics.add(this.control, Word.PutSeq, 1);
    Atomics.notify(this.control, Word.PutSeq);
  }

  /**
   * Appends one record unless the ring holds `maxsize` items (0: no limit) or has no room left.
   * `countUnfinished`: also count it as an unfinished task (JoinableQueue).
   */
  tryPut(item: Uint8Array, maxsize: number, countUnfinished: boolean): number {
    const control = this.control;
    const need = HEADER_BYTES + item.length;
    lockWord(control, Word.Lock);
    try {
      const count = control[Word.Count]!;
      if (maxsize > 0 && count >= maxsize) return PutResult.NoRoom;
      const used = control[Word.Used]!;
      let capacity = control[Word.Capacity]!;
      if (used + need > capacity) {
        if (used + need > MAX_RING_BYTES) return PutResult.NoRoom;
        capacity = this.grow(used + need);
      }
      const tail = control[Word.Tail]!;
      const length = item.length;
      const data = this.data;
      data[tail] = length & 0xff;
      data[(tail + 1) % capacity] = (length >>> 8) & 0xff;
      data[(tail + 2) % capacity] = (length >>> 16) & 0xff;
      data[(tail + 3) % capacity] = length >>> 24;
      const start = (tail + HEADER_BYTES) % capacity;
      const first = Math.min(length, capacity - start);
      data.set(first === length ? item : item.subarray(0, first), start);
      if (first < length) data.set(item.subarray(first), 0);
      control[Word.Tail] = (start + length) % capacity;
      control[Word.Used] = used + need;
      Atomics.store(control, Word.Count, count + 1);
      if (countUnfinished) Atomics.add(control, Word.Unfinished, 1);
    } finally {
      unlockWord(control, Word.Lock);
    }
    Atomics.add(control, Word.PutSeq, 1);
    if (Atomics.load(control, Word.Getters) > 0) Atomics.notify(control, Word.PutSeq, this.wakeAll ? Infinity : 1);
    return PutResult.Done;
  }

  /**
   * Who is woken by a put: one getter (queues: every waiter takes an item), or every waiter
   * (pipes: a `poll` waits without taking, so a single wake-up could go to it alone).
   */
  wakeAll = false;

  /** Takes the oldest record, or `undefined` if the ring is empty. */
  tryGet(): Uint8Array | undefined {
    const control = this.control;
    if (Atomics.load(control, Word.Count) === 0) return undefined;
    let item: Uint8Array;
    lockWord(control, Word.Lock);
    try {
      const count = control[Word.Count]!;
      if (count === 0) return undefined;
      const capacity = control[Word.Capacity]!;
      const head = control[Word.Head]!;
      const data = this.data;
      const length =
        (data[head]! |
          (data[(head + 1) % capacity]! << 8) |
          (data[(head + 2) % capacity]! << 16) |
          (data[(head + 3) % capacity]! << 24)) >>>
        0;
      const start = (head + HEADER_BYTES) % capacity;
      const first = Math.min(length, capacity - start);
      item = new Uint8Array(length);
      item.set(data.subarray(start, start + first));
      if (first < length) item.set(data.subarray(0, length - first), first);
      if (count === 1) {
        // Empty again: start from the beginning, so that records rarely wrap.
        control[Word.Head] = 0;
        control[Word.Tail] = 0;
        control[Word.Used] = 0;
      } else {
        control[Word.Head] = (start + length) % capacity;
        control[Word.Used] = control[Word.Used]! - HEADER_BYTES - length;
      }
      Atomics.store(control, Word.Count, count - 1);
    } finally {
      unlockWord(control, Word.Lock);
    }
    Atomics.add(control, Word.GetSeq, 1);
    if (Atomics.load(control, Word.Putters) > 0) Atomics.notify(control, Word.GetSeq, 1);
    return item;
  }

  /**
   * Marks one task done (JoinableQueue). Returns false, changing nothing, if no task is
   * unfinished.
   */
  taskDone(): boolean {
    const control = this.control;
    for (;;) {
      const unfinished = Atomics.load(control, Word.Unfinished);
      if (unfinished === 0) return false;
      if (Atomics.compareExchange(control, Word.Unfinished, unfinished, unfinished - 1) === unfinished) {
        if (unfinished === 1) {
          Atomics.add(control, Word.ZeroSeq, 1);
          Atomics.notify(control, Word.ZeroSeq);
        }
        return true;
      }
    }
  }

  /** Grows the data buffer to hold at least `needed` bytes, with the records laid out from 0. Under the lock. */
  private grow(needed: number): number {
    const control = this.control;
    const capacity = control[Word.Capacity]!;
    let next = capacity * 2;
    while (next < needed) next *= 2;
    next = Math.min(next, MAX_RING_BYTES);
    const used = control[Word.Used]!;
    const head = control[Word.Head]!;
    // Lay the records out from 0 (they may wrap around the old end), then grow.
    const first = Math.min(used, capacity - head);
    const copy = new Uint8Array(used);
    copy.set(this.data.subarray(head, head + first));
    if (first < used) copy.set(this.data.subarray(0, used - first), first);
    this.dataBuffer.grow(next);
    this.data.set(copy, 0);
    control[Word.Head] = 0;
    control[Word.Tail] = used;
    Atomics.store(control, Word.Capacity, next);
    return next;
  }
}

import { growableSharedBuffer, type GrowableSharedArrayBuffer } from './es2024.js';
import { lockWord, unlockWord } from './futex.js';

/**
 * Indexes of the ring's control words (Int32), grouped in 64-byte cache lines by who writes them:
 * the putting side, the getting side, and both.
 */
export const Word = {
  /** Held by a put while it writes a record (producers take turns; getters are not stopped). */
  PutLock: 0,
  /** Where the next record is written. Changed by puts only. */
  Tail: 1,
  /** Bumped after every put: getters wait on it. */
  PutSeq: 2,
  /** Puts waiting for room: a get calls `Atomics.notify` only when someone waits. */
  Putters: 3,

  /** Held by a get while it reads a record (consumers take turns; putters are not stopped). */
  GetLock: 16,
  /** Where the next record is read. Changed by gets only. */
  Head: 17,
  /** Bumped after every get: putters waiting for room wait on it. */
  GetSeq: 18,
  /** Gets waiting for an item: a put calls `Atomics.notify` only when someone waits. */
  Getters: 19,

  /** Bytes in use, record headers included: added by puts once written, taken off by gets once read. */
  Used: 32,
  /** Records in the ring: published by puts, taken off by gets. */
  Count: 33,
  /** Items put and not yet marked done (JoinableQueue). */
  Unfinished: 34,
  /** Bumped each time Unfinished falls to zero: `join()` waits on it. */
  ZeroSeq: 35,
  /** Bit flags, see {@link Flag}. */
  Flags: 36,
  /** Current size in bytes of the data buffer; changed only with both locks held. */
  Capacity: 37,
} as const;
const CONTROL_WORDS = 48;

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
 * words. Because its state is only SharedArrayBuffers, a ring can be cloned to any number of threads.
 *
 * Two locks, as in a two-lock queue: puts take turns on one, gets on the other, so a producer and a
 * consumer never wait for each other. A put writes its record into free space, then publishes it
 * by adding to `Used` and `Count`; a get copies the oldest record out, then frees it by taking off
 * `Used` and `Count`. The atomic counters order the copies between the two sides. Growing the
 * buffer moves records, so it takes both locks (always the put lock first). Every operation is
 * synchronous and short; waiting (for items, for room, for `join`) is left to the callers, on
 * the sequence words.
 *
 * @example
 * ```ts
 * const ring = SharedRing.create();
 * ring.tryPut(new Uint8Array([1, 2, 3]), 0, false);
 * ring.tryGet(); // Uint8Array [1, 2, 3]
 * const [control, data] = ring.buffers();
 * const sameRing = SharedRing.attach(control, data); // in another thread
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
   * Who is woken by a put: one getter (queues: every waiter takes an item), or every waiter
   * (pipes: a `poll` waits without taking, so a single wake-up could go to it alone).
   */
  wakeAll = false;

  /**
   * Appends one record unless the ring holds `maxsize` items (0: no limit) or has no room left.
   * `countUnfinished`: also count it as an unfinished task (JoinableQueue).
   */
  tryPut(item: Uint8Array, maxsize: number, countUnfinished: boolean): number {
    const control = this.control;
    const length = item.length;
    const need = HEADER_BYTES + length;
    lockWord(control, Word.PutLock);
    try {
      // Gets only ever lower Count and Used, so what is read here can only be too cautious.
      if (maxsize > 0 && Atomics.load(control, Word.Count) >= maxsize) return PutResult.NoRoom;
      let capacity = control[Word.Capacity]!;
      const used = Atomics.load(control, Word.Used);
      if (used + need > capacity) {
        if (used + need > MAX_RING_BYTES) return PutResult.NoRoom;
        capacity = this.grow(used + need);
      }
      const tail = control[Word.Tail]!;
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
      // Counted as unfinished before it can be taken (and marked done).
      if (countUnfinished) Atomics.add(control, Word.Unfinished, 1);
      Atomics.add(control, Word.Used, need);
      // Publishes the record: a get that sees the new count sees its bytes.
      Atomics.add(control, Word.Count, 1);
    } finally {
      unlockWord(control, Word.PutLock);
    }
    Atomics.add(control, Word.PutSeq, 1);
    if (Atomics.load(control, Word.Getters) > 0) Atomics.notify(control, Word.PutSeq, this.wakeAll ? Infinity : 1);
    return PutResult.Done;
  }

  /** Takes the oldest record, or `undefined` if the ring is empty. */
  tryGet(): Uint8Array | undefined {
    const control = this.control;
    if (Atomics.load(control, Word.Count) === 0) return undefined;
    let item: Uint8Array;
    lockWord(control, Word.GetLock);
    try {
      if (Atomics.load(control, Word.Count) === 0) return undefined;
      // Stable while the get lock is held: growing takes it too.
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
      control[Word.Head] = (start + length) % capacity;
      // Frees the bytes only now that they are copied out: a put may write there next.
      Atomics.sub(control, Word.Used, HEADER_BYTES + length);
      Atomics.sub(control, Word.Count, 1);
    } finally {
      unlockWord(control, Word.GetLock);
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

  /**
   * Grows the data buffer to hold at least `needed` bytes, with the records laid out from 0.
   * Called with the put lock held; takes the get lock too, since records move.
   */
  private grow(needed: number): number {
    const control = this.control;
    lockWord(control, Word.GetLock);
    try {
      const capacity = control[Word.Capacity]!;
      let next = capacity * 2;
      while (next < needed) next *= 2;
      next = Math.min(next, MAX_RING_BYTES);
      const used = Atomics.load(control, Word.Used);
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
    } finally {
      unlockWord(control, Word.GetLock);
    }
  }
}

import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import type { LockEngine } from '../../backend/SyncEngines.js';
import { RuntimeError, ValueError } from '../../errors.js';
import { currentOwner } from '../../runtime/ownerIdentity.js';
import { Deadline } from '../../backend/Deadline.js';
import { waitForChange } from './waitForChange.js';
import { sharedWords } from './sharedWords.js';

// Word layout of a lock's SharedArrayBuffer.
/** Lock: 0 free, 1 held. RLock: the recursion depth (0 free). */
const STATE = 0;
/** Threads (async waits) sleeping for the lock; a release only notifies when some do. */
const WAITERS = 1;
/** Bumped by a release that has waiters; sleepers wait for it to change. */
const SEQ = 2;
/** `threadId + 1` of the holder, 0 when free. Written by the holder only. */
const OWNER_THREAD = 3;
/** The holder's per-thread process identity. */
const OWNER_PROCESS = 4;
/** The fencing token: bumped by every acquisition (not by an RLock's re-entry). */
const TOKEN = 5;
const WORDS = 6;

/**
 * A lock in shared memory (local backend): a compare-and-swap fast path that takes an
 * uncontended lock synchronously, and `Atomics.waitAsync` for contended waits, so waiting never
 * blocks the event loop. Non-recursive (`Lock`: any thread may release it, as in Python) or
 * recursive (`RLock`: owned by one thread and process, released as many times as acquired).
 *
 * @example
 * ```ts
 * const lock = LocalLock.create(false);
 * if (lock.tryAcquire() || (await lock.acquire(Deadline.after(1000)))) lock.release();
 * ```
 */
export class LocalLock implements LockEngine {
  readonly backend = 'local' as const;
  /** The token of this copy's latest acquisition (see {@link LockEngine.fencingToken}). */
  fencingToken: number | undefined;

  private constructor(
    readonly recursive: boolean,
    readonly buffer: SharedArrayBuffer,
    private readonly words: Int32Array,
  ) {}

  static create(recursive: boolean): LocalLock {
    const buffer = new SharedArrayBuffer(WORDS * 4);
    return new LocalLock(recursive, buffer, new Int32Array(buffer));
  }

  /** Re-binds a lock that crossed from another thread. */
  static fromHandle(recursive: boolean, attachments: unknown[]): LocalLock {
    const buffer = sharedWords(recursive ? 'local.rlock' : 'local.lock', attachments, 0, WORDS);
    return new LocalLock(recursive, buffer, new Int32Array(buffer));
  }

  handle(): HandleDescriptor {
    return { kind: this.recursive ? 'local.rlock' : 'local.lock', state: null, attachments: [this.buffer] };
  }

  tryAcquire(): boolean {
    const words = this.words;
    if (Atomics.compareExchange(words, STATE, 0, 1) === 0) {
      const owner = currentOwner();
      Atomics.store(words, OWNER_THREAD, owner.thread);
      Atomics.store(words, OWNER_PROCESS, owner.process);
      // Tokens start at 1; the word wraps after 2^32 acquisitions, read back as unsigned.
      this.fencingToken = (Atomics.add(words, TOKEN, 1) + 1) >>> 0;
      return true;
    }
    if (this.recursive && this.isMine()) {
      // Only the owner changes the depth of a held RLock.
      Atomics.add(words, STATE, 1);
      return true;
    }
    return false;
  }

  async acquire(deadline: Deadline): Promise<boolean> {
    if (this.tryAcquire()) return true;
    if (deadline.expired()) return false;
    const words = this.words;
    // Registered as a waiter before the re-check below: a release that happens after the
    // re-check fails sees the waiter and bumps SEQ, so the wait cannot miss it.
    Atomics.add(words, WAITERS, 1);
    try {
      for (;;) {
        const seen = Atomics.load(words, SEQ);
        if (this.tryAcquire()) return true;
        const left = deadline.remaining();
        if (left === 0) return false;
        await waitForChange(words, SEQ, seen, deadline);
      }
    } finally {
      Atomics.sub(words, WAITERS, 1);
    }
  }

  release(): void {
    const words = this.words;
    if (this.recursive) {
      if (!this.isMine()) throw new RuntimeError('cannot release un-acquired lock: this RLock is not held by this thread.');
      const depth = Atomics.load(words, STATE);
      if (depth > 1) {
        Atomics.sub(words, STATE, 1);
        return;
      }
    } else if (Atomics.load(words, STATE) === 0) {
      throw new ValueError('semaphore or lock released too many times: this Lock is not locked.');
    }
    // The owner is cleared before the lock is free, so a new holder's identity is never overwritten.
    Atomics.store(words, OWNER_THREAD, 0);
    Atomics.store(words, OWNER_PROCESS, 0);
    if (this.recursive) Atomics.store(words, STATE, 0);
    else if (Atomics.compareExchange(words, STATE, 1, 0) !== 1) {
      throw new ValueError('semaphore or lock released too many times: this Lock is not locked.');
    }
    this.wakeOne();
  }

  locked(): boolean {
    return Atomics.load(this.words, STATE) !== 0;
  }

  isMine(): boolean {
    const words = this.words;
    const owner = currentOwner();
    // Only this thread writes its own identity, so a match cannot be a torn read of another holder.
    return (
      Atomics.load(words, OWNER_THREAD) === owner.thread &&
      Atomics.load(words, OWNER_PROCESS) === owner.process &&
      Atomics.load(words, STATE) !== 0
    );
  }

  /**
   * Releases the lock completely, whatever its depth, for `Condition.wait`; returns the depth to
   * restore. The caller has checked that it holds the lock.
   */
  releaseAll(): number {
    const depth = this.recursive ? Atomics.load(this.words, STATE) : 1;
    if (this.recursive) Atomics.store(this.words, STATE, 1);
    this.release();
    return depth;
  }

  /** Re-acquires a lock released by {@link releaseAll}, at the depth it had. */
  async acquireRestore(depth: number): Promise<void> {
    await this.acquire(Deadline.never);
    if (depth > 1) Atomics.add(this.words, STATE, depth - 1);
  }

  private wakeOne(): void {
    const words = this.words;
    if (Atomics.load(words, WAITERS) > 0) {
      Atomics.add(words, SEQ, 1);
      Atomics.notify(words, SEQ, 1);
    }
  }
}

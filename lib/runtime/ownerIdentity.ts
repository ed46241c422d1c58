import { threadId } from 'node:worker_threads';

/**
 * Who owns a lock: this thread (its `threadId`, unique within the OS process for its lifetime)
 * plus a per-thread "process" identity. The second part lets a runtime that runs several
 * fanout processes one after another on one thread (a reused worker) give each its own
 * identity, so that a lock left held by one is never taken as owned by the next.
 */
export interface OwnerIdentity {
  /** `threadId + 1`, so that 0 can mean "nobody". */
  readonly thread: number;
  /** A non-zero 31-bit number, fresh for each process run on this thread. */
  readonly process: number;
}

function freshProcessIdentity(): number {
  return Math.floor(Math.random() * 0x7ffffffe) + 1;
}

let current: OwnerIdentity = { thread: threadId + 1, process: freshProcessIdentity() };

/**
 * The owner identity of the code running now in this thread.
 *
 * @example
 * ```ts
 * const { thread, process } = currentOwner();
 * ```
 */
export function currentOwner(): OwnerIdentity {
  return current;
}

/**
 * Gives this thread a new process identity: call it when a new fanout process starts on a
 * thread that ran another one before. Locks held by the previous identity are no longer "mine".
 *
 * @example
 * ```ts
 * beginProcessIdentity(); // at the start of a Process target on a reused worker thread
 * ```
 */
export function beginProcessIdentity(): OwnerIdentity {
  current = { thread: threadId + 1, process: freshProcessIdentity() };
  return current;
}

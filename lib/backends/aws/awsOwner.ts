import { randomBytes } from 'node:crypto';
import { currentOwner } from '../../runtime/ownerIdentity.js';

/**
 * Who holds an aws lock, and what it holds: an owner id that no other thread, process or machine
 * can have, and the holds it keeps in memory (recursion depth, fencing token, heartbeat), by lock.
 * A thread has one ({@link threadLockOwner}), so every copy of a lock in a thread (the one
 * created here, one revived from a handle) sees the same hold; tests give engines an owner each
 * to play separate machines in one process.
 *
 * @example
 * ```ts
 * const owner = threadLockOwner();
 * owner.id(); // '3f9c…-1-123456789': random per thread, the thread, the fanout process
 * ```
 */
export class LockOwner {
  /** Holds by lock (`table|id`); owned by {@link AwsLock}. */
  readonly holds = new Map<string, unknown>();
  private readonly random = randomBytes(8).toString('hex');

  constructor(
    /** Whether the id follows this thread's fanout process identity (a reused worker thread). */
    private readonly followsProcess = false,
  ) {}

  /**
   * The id written into a lock's item while this owner holds it. The thread's owner includes the
   * current fanout process identity, so that a process run later on a reused thread is another
   * owner and never inherits a hold.
   */
  id(): string {
    if (!this.followsProcess) return this.random;
    const { thread, process } = currentOwner();
    return `${this.random}-${thread}-${process}`;
  }
}

let thisThread: LockOwner | undefined;

/**
 * The owner of this thread (module state is per thread in Node).
 *
 * @example
 * ```ts
 * const lock = await AwsLock.create(backend, { recursive: true, owner: threadLockOwner() });
 * ```
 */
export function threadLockOwner(): LockOwner {
  thisThread ??= new LockOwner(true);
  return thisThread;
}

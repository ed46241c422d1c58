import type { Deadline } from '../../backend/Deadline.js';

/** The first pause of a wait, and the longest: an idle waiter costs about one request a second. */
export const FIRST_PAUSE_MS = 20;
export const LONGEST_PAUSE_MS = 1_000;
/** A poll waits at least this many round trips of the previous one. */
const PACE = 4;

/**
 * The pauses of every aws wait that polls the table (a lock or semaphore acquire, an event,
 * condition or barrier wait, a queue's `get`, a pipe's `recv`, `join`): doubling from 20 ms to
 * 1 s, each drawn in the upper half of its bound (jitter, so that waiters do not look in step),
 * and never past the wait's deadline. A waiter reads a few times in its first second and about
 * once a second after, however long it waits.
 *
 * @example
 * ```ts
 * const backoff = new PollBackoff();
 * while (!(await look()) && (await backoff.pause(deadline))) {}
 * ```
 */
export class PollBackoff {
  private bound = FIRST_PAUSE_MS;

  constructor(private readonly deadline?: Deadline) {}

  /** Sleeps for the next pause; false (at once) if the deadline has passed. */
  async pause(deadline: Deadline | undefined = this.deadline): Promise<boolean> {
    if (deadline?.expired()) return false;
    await this.sleep(Math.min(this.next(), deadline?.remaining() ?? Infinity));
    return true;
  }

  /**
   * The next pause, in ms, at least four times the last poll's round trip: that bound paces
   * waiters by the store's own latency, so that when many waiters make it slow each polls less
   * (100 waiters on one emulator otherwise queued every request behind theirs, hand-offs too).
   */
  next(lastRoundTripMs = 0): number {
    const bound = this.bound;
    this.bound = Math.min(LONGEST_PAUSE_MS, this.bound * 2);
    return Math.max(bound / 2 + (Math.random() * bound) / 2, PACE * lastRoundTripMs);
  }

  /** Starts again from the shortest pause (the waiter found something: look again soon). */
  reset(): void {
    this.bound = FIRST_PAUSE_MS;
  }

  /** Resolves after `ms` (keeps the event loop alive: something is waiting). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

import type { Deadline } from '../../backend/Deadline.js';

/** The first pause of a wait, and the longest: an idle waiter costs about one request a second. */
export const FIRST_PAUSE_MS = 20;
export const LONGEST_PAUSE_MS = 1_000;

/**
 * Pauses between the looks of a waiter that polls DynamoDB (an aws queue's `get`, a pipe's
 * `recv`, `join`): doubling from 20 ms to 1 s, with jitter so that waiters do not look in step,
 * and never past the deadline.
 *
 * @example
 * ```ts
 * const backoff = new PollBackoff();
 * while (!(await look()) && (await backoff.pause(deadline))) {}
 * ```
 */
export class PollBackoff {
  private next = FIRST_PAUSE_MS;

  /** Sleeps for the next pause; false (at once) if the deadline has passed. */
  async pause(deadline: Deadline): Promise<boolean> {
    if (deadline.expired()) return false;
    const jittered = this.next / 2 + Math.random() * (this.next / 2);
    this.next = Math.min(LONGEST_PAUSE_MS, this.next * 2);
    await new Promise((resolve) => setTimeout(resolve, Math.min(jittered, deadline.remaining())));
    return true;
  }

  /** Starts again from the shortest pause (after the waiter found something). */
  reset(): void {
    this.next = FIRST_PAUSE_MS;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { Deadline } from '../../backend/Deadline.js';

/** The first pause of a poll, in ms. */
const FIRST_DELAY_MS = 20;
/** The longest pause between two polls, in ms: a waiter costs at most about one read a second. */
const MAX_DELAY_MS = 1_000;

/**
 * The pauses of a wait that polls the table (an event, a barrier): doubling from 20 ms to 1 s,
 * each drawn in its upper half (jitter, so that many waiters do not poll in step), never past
 * the wait's deadline. A waiter thus reads about log2(t / 20 ms) times in its first second and
 * once a second after, however long it waits.
 *
 * @example
 * ```ts
 * const backoff = new WaitBackoff(deadline);
 * while (!(await isDone())) if (!(await backoff.pause())) return false; // the deadline passed
 * ```
 */
export class WaitBackoff {
  private delay = FIRST_DELAY_MS;

  constructor(private readonly deadline: Deadline) {}

  /** Sleeps for the next pause; resolves false, at once, when the deadline has already passed. */
  async pause(): Promise<boolean> {
    if (this.deadline.expired()) return false;
    const jittered = this.delay * (0.5 + Math.random() * 0.5);
    this.delay = Math.min(MAX_DELAY_MS, this.delay * 2);
    await sleep(Math.min(jittered, this.deadline.remaining()));
    return true;
  }
}

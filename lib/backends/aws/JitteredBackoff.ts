/** A poll waits at least this many round trips of the previous one. */
const PACE = 4;

/**
 * The delays of a wait that polls a table: they start small (a lock released soon is taken
 * soon), double up to a bound (a long wait costs a few requests a second, not hundreds), and are
 * jittered (half fixed, half random) so that many waiters do not poll in step.
 *
 * @example
 * ```ts
 * const backoff = new JitteredBackoff(20, 500);
 * while (!(await tryOnce())) await sleep(Math.min(backoff.next(), deadline.remaining()));
 * ```
 */
export class JitteredBackoff {
  private current: number;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
  ) {
    this.current = firstMs;
  }

  /**
   * The next delay, in milliseconds: within [current/2, current], and at least four times the
   * last poll's round trip. The second bound paces waiters by the store's own latency: when many
   * waiters make it slow, each polls less, so they never take more than about a fifth of it (100
   * waiters on one emulator otherwise queued every request behind theirs, hand-offs included).
   */
  next(lastRoundTripMs = 0): number {
    const base = this.current;
    this.current = Math.min(this.maxMs, this.current * 2);
    return Math.max(base / 2 + (Math.random() * base) / 2, PACE * lastRoundTripMs);
  }

  /** Starts again from the first delay (something changed: poll soon). */
  reset(): void {
    this.current = this.firstMs;
  }
}

/** Resolves after `ms` (keeps the event loop alive: something is waiting for it). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

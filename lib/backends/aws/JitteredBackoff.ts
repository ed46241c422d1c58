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

  /** The next delay, in milliseconds, within [current/2, current]. */
  next(): number {
    const base = this.current;
    this.current = Math.min(this.maxMs, this.current * 2);
    return base / 2 + (Math.random() * base) / 2;
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

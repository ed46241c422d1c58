import { performance } from 'node:perf_hooks';

/**
 * When a blocking call stops waiting: the one type every wait of the SPI takes (lock and
 * semaphore acquires, event, condition and barrier waits, queue puts and gets, pipe reads).
 * A moment on this thread's monotonic clock (`performance.now()`), so that it means the same
 * however long the call spends in requests; `Infinity` waits for ever. The public classes turn
 * Python's `timeout` (and `block=False`) into one, so engines never see milliseconds to count.
 *
 * @example
 * ```ts
 * const deadline = Deadline.after(500);  // 500 ms from now
 * while (!taken && !deadline.expired()) await sleep(Math.min(50, deadline.remaining()));
 * Deadline.now();                        // do not wait (block=False)
 * Deadline.never;                        // wait for ever (timeout=None)
 * ```
 */
export class Deadline {
  /** Waits for ever. */
  static readonly never = new Deadline(Infinity);

  private constructor(
    /** The `performance.now()` time at which waiting ends; `Infinity` for never. */
    readonly at: number,
    /** The timeout it was made from, in ms, for messages ("timed out after 500 ms"). */
    readonly timeoutMs: number | undefined = undefined,
  ) {}

  /**
   * `ms` from now; `undefined` for never. Python's rule for a negative timeout holds: it counts
   * as zero (do not wait).
   */
  static after(ms: number | undefined): Deadline {
    if (ms === undefined || ms === Infinity) return Deadline.never;
    const timeout = Math.max(0, ms);
    return new Deadline(performance.now() + timeout, timeout);
  }

  /** Already passed: try once, do not wait. */
  static now(): Deadline {
    return new Deadline(performance.now(), 0);
  }

  /** A deadline at a `performance.now()` time. */
  static at(time: number): Deadline {
    return time === Infinity ? Deadline.never : new Deadline(time);
  }

  /** Whether this waits for ever. */
  get unlimited(): boolean {
    return this.at === Infinity;
  }

  /** Milliseconds left, ≥ 0 (`Infinity` for never). */
  remaining(): number {
    return this.at === Infinity ? Infinity : Math.max(0, this.at - performance.now());
  }

  /** True once the deadline has passed. */
  expired(): boolean {
    return this.at !== Infinity && performance.now() >= this.at;
  }

  /** The earlier of this and `other`. */
  min(other: Deadline): Deadline {
    return other.at < this.at ? other : this;
  }
}

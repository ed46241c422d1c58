/**
 * Waiting on shared memory without blocking the event loop: `Atomics.waitAsync` until a
 * {@link Deadline}, never a busy spin. Every primitive and queue of the local backend waits
 * through here.
 */
import type { Deadline } from '../../backend/Deadline.js';
import { waitAsync } from './es2024.js';

/** The longest single timer (Node's limit is 2^31 - 1 ms); a longer wait simply re-checks. */
const MAX_TIMER_MS = 2 ** 30;
/**
 * The wait's own timer fires this long after the `waitAsync` timeout should have: V8's timeout
 * task neither keeps Node alive nor always runs on time, so the timer is what ends the wait for
 * sure, and normally the `waitAsync` timeout comes first and leaves no stale waiter behind.
 */
const TIMER_MARGIN_MS = 20;

let waiting = 0;

/**
 * Waits until `array[index]` may no longer hold `expected` (someone changed it and called
 * `Atomics.notify`), until `deadline`, or for at most `maxMs` (a re-check period). Resolves at
 * once when the value already differs or the deadline has passed. Callers re-check their
 * condition afterwards: a wake-up is a hint, not a guarantee.
 *
 * While it waits, a referenced timer keeps the thread alive, as a blocked Python call keeps its
 * process alive: a program whose main thread waits on `lock.acquire()` or `queue.join()` does not
 * exit under it (a pending `waitAsync` alone would let it).
 *
 * @example
 * ```ts
 * const seen = Atomics.load(words, SEQ);
 * if (!tryTake()) await waitForChange(words, SEQ, seen, deadline);
 * ```
 */
export async function waitForChange(
  array: Int32Array,
  index: number,
  expected: number,
  deadline: Deadline,
  maxMs: number = Infinity,
): Promise<void> {
  const remaining = Math.min(deadline.remaining(), maxMs);
  if (remaining <= 0) return;
  const result = waitAsync(array, index, expected, remaining === Infinity ? undefined : remaining);
  if (!result.async) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.min(remaining + TIMER_MARGIN_MS, MAX_TIMER_MS));
  });
  waiting++;
  try {
    await Promise.race([result.value, timedOut]);
  } finally {
    waiting--;
    clearTimeout(timer);
  }
}

/** Number of waits pending in this thread (for tests of the keep-alive). */
export function pendingWaits(): number {
  return waiting;
}

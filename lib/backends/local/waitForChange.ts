import { waitAsync } from './es2024.js';

/** Keeps the event loop alive while a wait is pending (a pending `Atomics.waitAsync` does not). */
const KEEP_ALIVE_MS = 2 ** 30;
/**
 * The wait's own timer fires this long after the `waitAsync` timeout should have: V8's timeout
 * task neither keeps Node alive nor always runs on time, so the timer is what ends the wait for
 * sure, and normally the `waitAsync` timeout comes first and leaves no stale waiter behind.
 */
const TIMER_MARGIN_MS = 20;

/**
 * Waits, without blocking the event loop, until `control[index]` is no longer `expected` (and
 * someone calls `Atomics.notify` on it), or until `deadline` (a `performance.now()` time; `Infinity`
 * for none). Resolves in any case: the caller re-checks its condition.
 *
 * While it waits, a referenced timer keeps the thread alive, as a blocked Python call keeps its
 * process alive: a program whose main thread waits on `queue.join()` does not exit under it.
 *
 * @example
 * ```ts
 * const seen = Atomics.load(control, PUT_SEQ);
 * if (!tryGet()) await waitForChange(control, PUT_SEQ, seen, deadline);
 * ```
 */
export async function waitForChange(control: Int32Array, index: number, expected: number, deadline: number): Promise<void> {
  const remaining = deadline === Infinity ? Infinity : deadline - performance.now();
  if (remaining <= 0) return;
  const result = waitAsync(control, index, expected, remaining);
  if (!result.async) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.min(remaining + TIMER_MARGIN_MS, KEEP_ALIVE_MS));
  });
  try {
    await Promise.race([result.value, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

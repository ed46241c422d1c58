/**
 * Waiting on shared memory without blocking the event loop: `Atomics.waitAsync` with a
 * deadline, never a busy spin. Every primitive of the local backend waits through here.
 */

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (
  Atomics as unknown as {
    waitAsync(array: Int32Array, index: number, expected: number, timeout?: number): WaitAsyncResult;
  }
).waitAsync;

// A pending Atomics.waitAsync does not keep Node's event loop alive: without a referenced
// handle the process would exit in the middle of `await lock.acquire()`. One long interval,
// referenced while anything in this thread waits, keeps it alive as a blocked Python call would.
let waiting = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;
const KEEP_ALIVE_PERIOD_MS = 2 ** 31 - 1;

function noop(): void {}

/**
 * Waits until `array[index]` may no longer hold `expected`: woken by `Atomics.notify`, or after
 * `timeoutMs` (`Infinity`: no limit). Resolves at once when the value already differs. Callers
 * re-check their condition afterwards: a wake-up is a hint, not a guarantee.
 *
 * @example
 * ```ts
 * const seen = Atomics.load(words, SEQ);
 * if (!tryTake()) await waitForChange(words, SEQ, seen, remaining(deadline));
 * ```
 */
export async function waitForChange(array: Int32Array, index: number, expected: number, timeoutMs: number): Promise<void> {
  const result = waitAsync(array, index, expected, timeoutMs === Infinity ? undefined : Math.max(0, timeoutMs));
  if (!result.async) return;
  if (waiting++ === 0) keepAlive = setInterval(noop, KEEP_ALIVE_PERIOD_MS);
  try {
    await result.value;
  } finally {
    if (--waiting === 0) clearInterval(keepAlive);
  }
}

/** The moment a wait of `timeoutMs` ends (`Infinity` for no timeout). */
export function deadlineOf(timeoutMs: number | undefined): number {
  return timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
}

/** Milliseconds left until `deadline` (0 once passed, `Infinity` for none). */
export function remaining(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - performance.now());
}

/** Number of waits pending in this thread (for tests of the keep-alive). */
export function pendingWaits(): number {
  return waiting;
}

/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts (never rejects): a poller's
 * pause that a stop request cuts short.
 *
 * @example
 * ```ts
 * await sleep(1000, stop.signal);
 * ```
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

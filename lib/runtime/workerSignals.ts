/**
 * The few words of shared memory between a local pool worker and its parent, as an
 * Int32Array over a SharedArrayBuffer.
 */

/** The number of the chunk the worker is running (written by the worker). */
export const RUNNING_CHUNK = 0;
/** The item of that chunk it started last (written by the worker before each item). */
export const RUNNING_ITEM = 1;
/** Bumped by the parent after each message, so an idle worker blocked on it wakes at once. */
export const WAKE_COUNTER = 2;

/**
 * Creates the signal words for one worker.
 *
 * @example
 * ```ts
 * const signals = createWorkerSignals();
 * Atomics.add(signals, WAKE_COUNTER, 1);
 * ```
 */
export function createWorkerSignals(): Int32Array {
  const signals = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  signals[RUNNING_CHUNK] = -1;
  signals[RUNNING_ITEM] = -1;
  return signals;
}

/**
 * Wakes the worker if it is blocked waiting for a message.
 *
 * @example
 * ```ts
 * worker.postMessage(frame);
 * wakeWorker(signals);
 * ```
 */
export function wakeWorker(signals: Int32Array): void {
  Atomics.add(signals, WAKE_COUNTER, 1);
  Atomics.notify(signals, WAKE_COUNTER, 1);
}

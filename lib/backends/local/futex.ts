import { BrokenQueueError } from '../../errors.js';

/**
 * A mutex in one Int32 word of shared memory, as Drepper's "futexes are tricky" mutex #2:
 * 0 = free, 1 = held, 2 = held with waiters. It guards only short, synchronous critical sections
 * (copying one item in or out of a ring), so a waiter spins briefly and then sleeps with
 * `Atomics.wait`: the holder never awaits while it holds the word, so the sleep is bounded by the
 * holder's time slice, not by anything asynchronous.
 *
 * A thread stopped while it holds the word (`terminate()` can interrupt any code) leaves it held
 * for good. Since no holder keeps it for more than microseconds, a waiter that has waited
 * `stuckAfterMs` gives up with {@link BrokenQueueError} instead of freezing its thread for ever.
 *
 * @example
 * ```ts
 * lockWord(control, LOCK);
 * try { copyItem(); } finally { unlockWord(control, LOCK); }
 * ```
 */
const SPINS = 64;
/** Sleeps between two looks at the clock while waiting for a held word. */
const SLICE_MS = 100;
/** No operation holds the word this long: its holder was stopped. */
export const LOCK_STUCK_MS = 10_000;

/** Takes the mutex at `control[index]`, waiting as long as a live holder can need. */
export function lockWord(control: Int32Array, index: number, stuckAfterMs = LOCK_STUCK_MS): void {
  let state = Atomics.compareExchange(control, index, 0, 1);
  if (state === 0) return;
  for (let spin = 0; spin < SPINS; spin++) {
    if (Atomics.load(control, index) === 0) {
      state = Atomics.compareExchange(control, index, 0, 1);
      if (state === 0) return;
    }
  }
  if (state !== 2) state = Atomics.exchange(control, index, 2);
  let started: number | undefined;
  while (state !== 0) {
    if (Atomics.wait(control, index, 2, SLICE_MS) === 'timed-out') {
      started ??= performance.now() - SLICE_MS;
      if (performance.now() - started >= stuckAfterMs) {
        throw new BrokenQueueError(
          `The lock of this queue or pipe has been held for over ${Math.round(stuckAfterMs / 1000)} s: a process was ` +
            'probably stopped with terminate() or kill() while it was using it, which leaves it unusable (as in Python).',
        );
      }
    }
    state = Atomics.exchange(control, index, 2);
  }
}

/** Releases the mutex at `control[index]`, waking one sleeper if there is one. */
export function unlockWord(control: Int32Array, index: number): void {
  if (Atomics.sub(control, index, 1) !== 1) {
    Atomics.store(control, index, 0);
    Atomics.notify(control, index, 1);
  }
}

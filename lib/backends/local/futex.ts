/**
 * A mutex in one Int32 word of shared memory, as Drepper's "futexes are tricky" mutex #2:
 * 0 = free, 1 = held, 2 = held with waiters. It guards only short, synchronous critical sections
 * (copying one item in or out of a ring), so a waiter spins briefly and then sleeps with
 * `Atomics.wait`: the holder never awaits while it holds the word, so the sleep is bounded by the
 * holder's time slice, not by anything asynchronous.
 *
 * Like Python's multiprocessing queues, a thread terminated while it holds the word leaves it held.
 *
 * @example
 * ```ts
 * lockWord(control, LOCK);
 * try { copyItem(); } finally { unlockWord(control, LOCK); }
 * ```
 */
const SPINS = 64;

/** Takes the mutex at `control[index]`, waiting as long as needed. */
export function lockWord(control: Int32Array, index: number): void {
  let state = Atomics.compareExchange(control, index, 0, 1);
  if (state === 0) return;
  for (let spin = 0; spin < SPINS; spin++) {
    if (Atomics.load(control, index) === 0) {
      state = Atomics.compareExchange(control, index, 0, 1);
      if (state === 0) return;
    }
  }
  if (state !== 2) state = Atomics.exchange(control, index, 2);
  while (state !== 0) {
    Atomics.wait(control, index, 2);
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

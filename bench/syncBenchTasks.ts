/** Tasks the sync benchmark runs in pool workers. */
import { task, type Lock, type Value } from 'fanout';

/** `n` increments of `value`, each a get-then-set under `lock`. */
export const benchLockedIncrements = task('bench.sync.lockedIncrements', async (lock: Lock, value: Value<'i'>, n: number) => {
  for (let i = 0; i < n; i++) {
    await lock.acquire();
    await value.set((await value.get()) + 1);
    await lock.release();
  }
});

/** The task of the shared-memory example (tasks live in a module of their own). */
import { task, type SharedArray, type Value } from 'fanout';

/** Python's `f(n, a)`: `n.value = 3.1415927` and `a[i] = -a[i]` for every element. */
export const f = task('examples.sharedMemory.f', async (n: Value<'d'>, a: SharedArray<'i'>) => {
  await n.set(3.1415927);
  for (let i = 0; i < a.length; i++) await a.set(i, -(await a.get(i)));
});

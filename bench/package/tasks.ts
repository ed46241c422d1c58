/**
 * The TypeScript task module of the package benchmarks, as a user of the npm package writes
 * it. Run under tsx from a project of its own, `fanout` is the compiled package (in this
 * repository, tsc checks it against the sources through tsconfig.json's `paths`).
 */
import { task } from 'fanout';

/**
 * The tiny task: as cheap as a task can be, so that only the pool's overhead is measured.
 *
 * @example
 * ```ts
 * await pool.map(addOne, [1, 2, 3]); // [2, 3, 4]
 * ```
 */
export const addOne = task('bench.package.addOne', (x: number) => x + 1);

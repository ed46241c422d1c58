import { task } from 'fanout';

/**
 * The seed slides' `def f(x): return x*x`, as a task: tasks live in a module of their own so
 * that a worker can import them without re-running the program.
 *
 * @example
 * ```ts
 * await pool.map(f, [1, 2, 3]); // [1, 4, 9]
 * ```
 */
export const f = task('seed.f', (x: number) => x * x);

/**
 * The threading slides' worker body (`print(self.i ** 32)`), returning the value instead of
 * printing it so that the caller decides where output goes. A bigint: `i ** 32` outgrows a double.
 *
 * @example
 * ```ts
 * await pool.apply(power32, [2]); // 4294967296n
 * ```
 */
export const power32 = task('seed.power32', (i: number) => BigInt(i) ** 32n);

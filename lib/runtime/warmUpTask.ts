import { task } from '../api/task.js';

/**
 * A task that does nothing: running it once per thread starts a worker's threads (and loads
 * their code) before real work arrives, as a Lambda's init phase or a fleet's start-up.
 *
 * @example
 * ```ts
 * await pool.map(warmUpTask, [0, 1]); // both threads started
 * ```
 */
export const warmUpTask = task('fanout.warmUp', (_index: number) => undefined);

/**
 * The seed slides' "Process pooling" example, line for line:
 *
 *     pool = Pool(processes=4)            # start 4 workers
 *     result = pool.apply_async(f, [10])  # run "f(10)"
 *     print result.get(timeout=1)         # print "100"
 *     print pool.map(f, range(10))        # prints numbers
 *
 * `f` lives in seedTasks.ts: a worker imports a task's module to find it, so tasks are not
 * defined in the program itself (Python's `if __name__ == '__main__':` guard solves the same
 * problem the other way round).
 */
import { Pool } from 'fanout';
import { f } from './seedTasks.js';

const pool = new Pool({ processes: 4 }); // start 4 workers
// Python's Pool starts its workers in the constructor; fanout starts them on first use. Let one
// start (importing TypeScript takes a few hundred ms on a busy machine) so that the 1 s timeout
// below covers the call, as it does in Python, not the start-up.
await pool.apply(f, [0]);

const result = pool.applyAsync(f, [10]); // run "f(10)"
console.log(await result.get(1000)); // prints "100"

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
console.log(await pool.map(f, range(10))); // prints numbers

pool.close();
await pool.join();

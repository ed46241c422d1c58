/**
 * The threading slides' worker-queue pattern, on a Pool.
 *
 * The slides: a bounded queue of jobs (`jobs = Queue.Queue(5)`), `jobs.put(item)` blocking while
 * it is full, worker threads taking jobs with `jobs.get()` and calling `jobs.task_done()` when a
 * job is finished, and the main thread waiting for every job with `jobs.join()`.
 *
 * How it maps here:
 * - the worker threads are the pool's workers; the body of their loop is the task `power32`
 *   (the slides' `print(self.i ** 32)`);
 * - `jobs.put(item)` is `put(item)` below: it submits the job with `pool.applyAsync` and, like a
 *   `Queue(5)` that is full, waits while 5 jobs are unfinished;
 * - `jobs.get()` happens inside the pool: each worker takes the next job when it is free;
 * - `jobs.task_done()` is the `callback` of `applyAsync`, run here when a job's result arrives;
 * - `jobs.join()` is `join()` below: it waits until every job put has been marked done.
 * What Pool does not offer is a queue object shared with the workers: they receive each job's
 * arguments directly instead of calling `get()` themselves.
 */
import { Pool } from 'fanout';
import { power32 } from './seedTasks.js';

const MAXSIZE = 5; // jobs = Queue.Queue(5)
const JOBS = 20;

const pool = new Pool({ processes: 2 });
let unfinished = 0;
let wake: (() => void) | undefined;
const waitForChange = () => new Promise<void>((resolve) => (wake = resolve));
const results = new Map<number, bigint>();

/** `jobs.task_done()`: one job fewer unfinished; wakes a blocked `put` or `join`. */
function taskDone(): void {
  unfinished--;
  const resolve = wake;
  wake = undefined;
  resolve?.();
}

/** `jobs.put(i)`: blocks while the queue is full, then hands the job to the pool. */
async function put(i: number): Promise<void> {
  while (unfinished >= MAXSIZE) await waitForChange();
  unfinished++;
  pool.applyAsync(power32, [i], {
    callback: (value) => {
      results.set(i, value);
      console.log(`job ${i}: ${i} ** 32 = ${value}`);
      taskDone();
    },
    errorCallback: (error) => {
      console.error(`job ${i} failed: ${error.message}`);
      process.exitCode = 1;
      taskDone();
    },
  });
}

/** `jobs.join()`: waits until every job put so far is done. */
async function join(): Promise<void> {
  while (unfinished > 0) await waitForChange();
}

for (let i = 1; i <= JOBS; i++) await put(i); // the producer
await join();
console.log(`all ${results.size} jobs done (join returned with ${unfinished} unfinished)`);

pool.close();
await pool.join();

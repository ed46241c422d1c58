import { ValueError } from '../errors.js';
import { Queue } from './Queue.js';

/**
 * A {@link Queue} that counts unfinished tasks, as Python's `multiprocessing.JoinableQueue`: every
 * `put` adds one, every `taskDone` removes one, and `join` waits until none is left.
 *
 * @example
 * ```ts
 * const jobs = new JoinableQueue<number>(5);
 * // in each worker process: for (;;) { const job = await jobs.get(); work(job); await jobs.taskDone(); }
 * for (let i = 0; i < 20; i++) await jobs.put(i); // waits while 5 are queued
 * await jobs.join(); // every job was taken and marked done
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  protected static override readonly joinable: boolean = true;

  /**
   * Marks one item taken with `get` as processed. Throws `ValueError` if called more times than
   * items were put.
   *
   * @example
   * ```ts
   * const job = await jobs.get();
   * await work(job);
   * await jobs.taskDone();
   * ```
   */
  async taskDone(): Promise<void> {
    if (!(await this.engine.taskDone())) {
      throw new ValueError('taskDone() called too many times: more often than items were put in the queue.');
    }
  }

  /**
   * Waits until every item put so far has been marked done with `taskDone`.
   *
   * @example
   * ```ts
   * await jobs.join();
   * ```
   */
  join(): Promise<void> {
    return this.engine.join();
  }

  protected override flavor(): string {
    return 'joinable';
  }
}

import { TimeoutError, ValueError } from '../errors.js';
import { checkTimeout } from './checks.js';

/** Callbacks run, in the caller's thread, when a result is ready. */
export interface ResultCallbacks<R> {
  /** Called with the value when the work succeeded. */
  callback?: (value: R) => void;
  /** Called with the error when the work failed. */
  errorCallback?: (error: Error) => void;
}

type State<R> = { kind: 'pending' } | { kind: 'fulfilled'; value: R } | { kind: 'rejected'; error: Error };

/**
 * The result of work submitted with `applyAsync`, `mapAsync` or `starmapAsync`, as Python's
 * `AsyncResult`. It is also awaitable: `await pool.applyAsync(f, [x])`.
 *
 * A failed result that nobody reads never raises an unhandled rejection.
 * Errors thrown by `callback`/`errorCallback` are re-thrown as uncaught exceptions, as an
 * event listener's would be, rather than swallowed.
 *
 * @example
 * ```ts
 * const result = pool.applyAsync(square, [10]);
 * await result.get(1000); // 100, or TimeoutError after 1 s (the work goes on)
 * result.ready();         // true
 * result.successful();    // true
 * ```
 */
export class AsyncResult<R> implements PromiseLike<R> {
  private state: State<R> = { kind: 'pending' };
  private readonly settled: Promise<void>;
  private markSettled!: () => void;

  /**
   * `executor` receives the functions that settle this result (once; later calls are ignored).
   */
  constructor(
    executor: (resolve: (value: R) => void, reject: (error: Error) => void) => void,
    private readonly callbacks: ResultCallbacks<R> = {},
  ) {
    this.settled = new Promise<void>((resolve) => (this.markSettled = resolve));
    executor(
      (value) => this.settle({ kind: 'fulfilled', value }),
      (error) => this.settle({ kind: 'rejected', error }),
    );
  }

  /**
   * The value, once ready. Rejects with the work's error, or with {@link TimeoutError} when
   * `timeout` ms pass first (the work itself goes on, as in Python).
   */
  async get(timeout?: number): Promise<R> {
    checkTimeout('AsyncResult.get(timeout)', timeout);
    if (this.state.kind === 'pending' && !(await this.waitFor(timeout))) {
      throw new TimeoutError(`The result was not ready within ${String(timeout)} ms.`, timeout!);
    }
    const state = this.state as Exclude<State<R>, { kind: 'pending' }>;
    if (state.kind === 'rejected') throw state.error;
    return state.value;
  }

  /** Waits until the result is ready or `timeout` ms pass; resolves to {@link ready}(). */
  async wait(timeout?: number): Promise<boolean> {
    checkTimeout('AsyncResult.wait(timeout)', timeout);
    if (this.state.kind !== 'pending') return true;
    return this.waitFor(timeout);
  }

  /** True once the work has finished, successfully or not. */
  ready(): boolean {
    return this.state.kind !== 'pending';
  }

  /** True if the work finished without error. Throws {@link ValueError} if it is not ready. */
  successful(): boolean {
    if (this.state.kind === 'pending') throw new ValueError('The result is not ready yet; successful() needs a finished result.');
    return this.state.kind === 'fulfilled';
  }

  then<T1 = R, T2 = never>(
    onFulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null,
    onRejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this.get().then(onFulfilled, onRejected);
  }

  private async waitFor(timeout: number | undefined): Promise<boolean> {
    if (timeout === undefined) {
      await this.settled;
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeout)));
    try {
      return await Promise.race([this.settled.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private settle(state: Exclude<State<R>, { kind: 'pending' }>): void {
    if (this.state.kind !== 'pending') return;
    this.state = state;
    this.markSettled();
    try {
      if (state.kind === 'fulfilled') this.callbacks.callback?.(state.value);
      else this.callbacks.errorCallback?.(state.error);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }
}

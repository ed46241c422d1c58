import { TimeoutError, ValueError } from '../errors.js';
import { checkTimeout } from './checks.js';

/** Callbacks run, in the caller's thread, when a result is ready. */
export interface ResultCallbacks<R> {
  /** Called with the value when the work succeeded. */
  callback?: (value: R) => void;
  /** Called with the error when the work failed. */
  errorCallback?: (error: Error) => void;
}

/** Settles an {@link AsyncResult}; kept off the public surface. */
export const settle: unique symbol = Symbol('settle');

/** Something a job settles when it ends: an AsyncResult, or an iterator's state. */
export interface Settleable {
  [settle](ok: boolean, valueOrError: unknown): void;
}

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;

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
export class AsyncResult<R> implements PromiseLike<R>, Settleable {
  private state = PENDING;
  private outcome: unknown;
  /** Called once when the result settles; created only when somebody waits. */
  private listeners: Array<() => void> | undefined;

  constructor(private readonly callbacks?: ResultCallbacks<R>) {}

  /**
   * The value, once ready. Rejects with the work's error, or with {@link TimeoutError} when
   * `timeout` ms pass first (the work itself goes on, as in Python).
   */
  get(timeout?: number): Promise<R> {
    try {
      checkTimeout('AsyncResult.get(timeout)', timeout);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.state === FULFILLED) return Promise.resolve(this.outcome as R);
    if (this.state === REJECTED) return Promise.reject(this.outcome as Error);
    return new Promise<R>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeout !== undefined) {
        timer = setTimeout(() => reject(new TimeoutError(`The result was not ready within ${timeout} ms.`, timeout)), timeout);
      }
      this.listen(() => {
        clearTimeout(timer);
        if (this.state === FULFILLED) resolve(this.outcome as R);
        else reject(this.outcome as Error);
      });
    });
  }

  /** Waits until the result is ready or `timeout` ms pass; resolves to {@link ready}(). */
  wait(timeout?: number): Promise<boolean> {
    try {
      checkTimeout('AsyncResult.wait(timeout)', timeout);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.state !== PENDING) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeout !== undefined) timer = setTimeout(() => resolve(false), timeout);
      this.listen(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** True once the work has finished, successfully or not. */
  ready(): boolean {
    return this.state !== PENDING;
  }

  /** True if the work finished without error. Throws {@link ValueError} if it is not ready. */
  successful(): boolean {
    if (this.state === PENDING) throw new ValueError('The result is not ready yet; successful() needs a finished result.');
    return this.state === FULFILLED;
  }

  then<T1 = R, T2 = never>(
    onFulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null,
    onRejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this.get().then(onFulfilled, onRejected);
  }

  /** @internal Settles the result once; later calls are ignored. */
  [settle](ok: boolean, valueOrError: unknown): void {
    if (this.state !== PENDING) return;
    this.state = ok ? FULFILLED : REJECTED;
    this.outcome = valueOrError;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
    const callbacks = this.callbacks;
    if (!callbacks) return;
    try {
      if (ok) callbacks.callback?.(valueOrError as R);
      else callbacks.errorCallback?.(valueOrError as Error);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }

  private listen(listener: () => void): void {
    (this.listeners ??= []).push(listener);
  }
}

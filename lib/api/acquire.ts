/**
 * What `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore` and `Condition` share: the
 * `acquire({ block, timeout })` options as Python's, and holding one with `await using`.
 */
import { InvalidArgumentError, TimeoutError } from '../errors.js';
import { checkOptions, checkTimeout } from './checks.js';

/** Options of `acquire`, as Python's `acquire(block=True, timeout=None)` (timeout in ms). */
export interface AcquireOptions {
  /** Wait for the lock (true), or only try once (false). @default true */
  block?: boolean;
  /** Give up after this many milliseconds (resolve false). @default no limit */
  timeout?: number;
}

/** Anything with Python's acquire/release protocol: locks, semaphores, conditions. */
export interface Acquirable {
  acquire(options?: AcquireOptions): Promise<boolean>;
  release(): Promise<void>;
}

/** The part of a backend object that `acquire` drives. */
interface AcquireImpl {
  tryAcquire(): boolean | Promise<boolean>;
  acquire(timeoutMs: number | undefined): Promise<boolean>;
}

const TRUE = Promise.resolve(true);

/**
 * Acquires `impl` per `options`: the uncontended case is one synchronous compare-and-swap
 * (where the backend allows), and an already resolved promise.
 */
export function acquireWith(impl: AcquireImpl, options: AcquireOptions | undefined, where: string): Promise<boolean> {
  if (options === undefined) {
    const taken = impl.tryAcquire();
    if (taken === true) return TRUE;
    if (taken === false) return impl.acquire(undefined);
    return taken.then((ok) => ok || impl.acquire(undefined));
  }
  let timeout: number | undefined;
  try {
    timeout = acquireTimeout(where, options);
  } catch (error) {
    return Promise.reject(error);
  }
  return impl.acquire(timeout);
}

/** The wait that `options` ask for: 0 to try once, undefined for no limit. */
export function acquireTimeout(where: string, options: AcquireOptions | undefined): number | undefined {
  checkOptions(`${where}(options)`, options, ['block', 'timeout']);
  const block = options?.block ?? true;
  if (typeof block !== 'boolean') throw new InvalidArgumentError(`${where}(options): block`, block, 'true or false');
  checkTimeout(`${where}(options): timeout`, options?.timeout);
  if (!block) {
    if (options?.timeout !== undefined) {
      throw new InvalidArgumentError(
        `${where}(options): timeout`,
        options.timeout,
        'undefined when block is false',
        'A non-blocking acquire cannot have a timeout.',
      );
    }
    return 0;
  }
  return options?.timeout;
}

/**
 * Acquires `lock` and returns a disposable that releases it, for `await using`. Throws
 * {@link TimeoutError} when the lock could not be taken within the options' limits.
 *
 * @example
 * ```ts
 * {
 *   await using _ = await holdLock(lock, { timeout: 1000 }, 'Lock.hold');
 *   // ... the lock is held here, and released at the end of the block
 * }
 * ```
 */
export async function holdLock(lock: Acquirable, options: AcquireOptions | undefined, what: string): Promise<AsyncDisposable> {
  if (!(await lock.acquire(options))) {
    const timeout = options?.block === false ? 0 : (options?.timeout ?? 0);
    throw new TimeoutError(
      options?.block === false
        ? `The ${what} is held elsewhere, and the acquire was non-blocking.`
        : `Could not acquire the ${what} within ${timeout} ms.`,
      timeout,
    );
  }
  let released = false;
  return {
    async [Symbol.asyncDispose]() {
      if (released) return;
      released = true;
      await lock.release();
    },
  };
}

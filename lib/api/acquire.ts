/**
 * What `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore` and `Condition` share: the
 * `acquire({ block, timeout })` options as Python's, and holding one with `await using`.
 */
import { Deadline } from '../backend/Deadline.js';
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

/** The part of an engine that `acquire` drives. */
interface AcquireEngine {
  tryAcquire(): boolean | Promise<boolean>;
  acquire(deadline: Deadline): Promise<boolean>;
}

const TRUE = Promise.resolve(true);

/**
 * Acquires `engine` per `options`: the uncontended case is one synchronous compare-and-swap
 * (where the backend allows), and an already resolved promise.
 */
export function acquireWith(engine: AcquireEngine, options: AcquireOptions | undefined, where: string): Promise<boolean> {
  if (options === undefined) {
    const taken = engine.tryAcquire();
    if (taken === true) return TRUE;
    if (taken === false) return engine.acquire(Deadline.never);
    return taken.then((ok) => ok || engine.acquire(Deadline.never));
  }
  let deadline: Deadline;
  try {
    deadline = acquireDeadline(where, options);
  } catch (error) {
    return Promise.reject(error);
  }
  return engine.acquire(deadline);
}

/**
 * The wait that `options` ask for. A non-blocking acquire tries once and ignores its timeout
 * (multiprocessing's rule); a negative timeout counts as zero.
 */
export function acquireDeadline(where: string, options: AcquireOptions | undefined): Deadline {
  checkOptions(`${where}(options)`, options, ['block', 'timeout']);
  const block = options?.block ?? true;
  if (typeof block !== 'boolean') throw new InvalidArgumentError(`${where}(options): block`, block, 'true or false');
  checkTimeout(`${where}(options): timeout`, options?.timeout);
  return block ? Deadline.after(options?.timeout) : Deadline.now();
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
    const timeout = options?.block === false ? 0 : Math.max(0, options?.timeout ?? 0);
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

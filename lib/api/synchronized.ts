/**
 * What `Value` and `SharedArray` share: their `lock` option, and Python's synchronized access
 * (each access takes the object's lock, unless this thread already holds it).
 */
import type { Backend } from '../backend/Backend.js';
import { BackendMismatchError, InvalidArgumentError } from '../errors.js';
import { checkOptions } from './checks.js';
import { Lock } from './Lock.js';
import { RLock } from './RLock.js';

/** Options of `Value` and `SharedArray`. */
export interface SharedOptions {
  /**
   * `true`: guard accesses with a new `RLock` (the default, as Python's); `false`: no lock
   * (every single access is still atomic); or the `Lock`/`RLock` to use.
   * @default true
   */
  lock?: boolean | Lock | RLock;
}

/** Options of `Value`: the {@link SharedOptions}, and a sharded counter's spread. */
export interface ValueOptions extends SharedOptions {
  /**
   * Spread the value over this many cells (1 to 100) that `add` picks from at random and reads
   * sum: a hot counter on the aws backend then takes this many times the ~1,000 writes a second
   * one DynamoDB item takes. A sharded Value has no lock (leave `lock` unset or `false`): one lock
   * would be the hot spot again; its `add` stays atomic, and `set` is not atomic with concurrent
   * adds. The local backend has no such limit and keeps one cell. @default 1
   */
  shards?: number;
}

/** The largest `shards` of a Value (what one BatchGetItem reads). */
export const MAX_SHARDS = 100;

/** The lock a `Value` or `SharedArray` gets from its options. */
export function lockFromOptions(
  where: string,
  options: SharedOptions | undefined,
  backend: Backend,
  known: readonly string[] = ['lock'],
): Lock | RLock | undefined {
  checkOptions(where, options, known);
  const lock = options?.lock ?? true;
  if (lock === true) return new RLock(backend);
  if (lock === false) return undefined;
  if (!(lock instanceof Lock) && !(lock instanceof RLock)) {
    throw new InvalidArgumentError(`${where}: lock`, lock, 'true, false, a Lock or an RLock');
  }
  if (lock.engine.backend !== backend.name) {
    throw new BackendMismatchError(
      `${lock instanceof Lock ? 'Lock' : 'RLock'} given to ${where}`,
      lock.engine.backend,
      backend.name,
    );
  }
  return lock;
}

/**
 * Runs `access` holding `lock` (if any), as Python's synchronized wrappers do for each access;
 * a thread that already holds the lock (inside `withLock(value.getLock(), ...)`) goes straight in.
 */
export async function synchronized<R>(lock: Lock | RLock | undefined, access: () => R | Promise<R>): Promise<R> {
  if (lock === undefined || (await lock.engine.isMine())) return access();
  await lock.acquire();
  try {
    return await access();
  } finally {
    await lock.release();
  }
}

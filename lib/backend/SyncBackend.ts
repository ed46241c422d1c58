import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import type { ElementOf, Typecode } from '../api/typecodes.js';
import { NotSupportedError } from '../errors.js';
import type { Backend, BackendName } from './Backend.js';

/**
 * The part of a synchronisation primitive or shared value that a backend implements (the SPI
 * behind `Lock`, `Semaphore`, `Value`...). The public classes in `lib/api/` check arguments and
 * hold the semantics that are the same everywhere; an implementation only stores state and
 * waits. Methods may answer synchronously where the backend can (shared memory) and must
 * return promises where it cannot (a network store).
 *
 * Timeouts are in milliseconds; `undefined` means wait for ever.
 */
export interface PrimitiveImpl {
  /** The backend this object lives in; objects of different backends never mix. */
  readonly backend: BackendName;
  /** How the object crosses to another thread or machine: kind, state and attachments. */
  describe(): HandleDescriptor;
}

/** A lock: non-recursive (`Lock`) or recursive and owner-aware (`RLock`). */
export interface LockImpl extends PrimitiveImpl {
  readonly recursive: boolean;
  /** Takes the lock if that needs no waiting. */
  tryAcquire(): boolean | Promise<boolean>;
  acquire(timeoutMs: number | undefined): Promise<boolean>;
  /** Raises ValueError (Lock, not locked) or RuntimeError (RLock, not owned by the caller). */
  release(): void | Promise<void>;
  locked(): boolean | Promise<boolean>;
  /** True when the caller's thread and process hold the lock. */
  isMine(): boolean | Promise<boolean>;
}

/** A counting semaphore, bounded when `maxValue` is set. */
export interface SemaphoreImpl extends PrimitiveImpl {
  readonly maxValue: number | undefined;
  tryAcquire(): boolean | Promise<boolean>;
  acquire(timeoutMs: number | undefined): Promise<boolean>;
  /** Adds `n`; raises ValueError when that would pass `maxValue` (and then adds nothing). */
  release(n: number): void | Promise<void>;
  getValue(): number | Promise<number>;
}

export interface EventImpl extends PrimitiveImpl {
  set(): void | Promise<void>;
  clear(): void | Promise<void>;
  isSet(): boolean | Promise<boolean>;
  wait(timeoutMs: number | undefined): Promise<boolean>;
}

/** A condition variable over a lock of the same backend. */
export interface ConditionImpl extends PrimitiveImpl {
  readonly lock: LockImpl;
  /** Releases the lock (every level of an RLock), waits, re-acquires; true if notified. */
  wait(timeoutMs: number | undefined): Promise<boolean>;
  /** Wakes up to `n` waiters (`Infinity`: all). The caller holds the lock. */
  notify(n: number): void | Promise<void>;
}

export interface BarrierImpl extends PrimitiveImpl {
  readonly parties: number;
  /** Resolves with the arrival index; `action` runs in the last party to arrive. */
  wait(timeoutMs: number | undefined, action: (() => unknown) | undefined): Promise<number>;
  reset(): void | Promise<void>;
  abort(): void | Promise<void>;
  nWaiting(): number | Promise<number>;
  broken(): boolean | Promise<boolean>;
}

/**
 * A fixed-length array of one typecode (a `Value` is one of length 1). Indexes and values are
 * checked by the public class before they get here.
 */
export interface SharedMemoryImpl<T extends Typecode = Typecode> extends PrimitiveImpl {
  readonly typecode: T;
  readonly length: number;
  load(index: number): ElementOf<T> | Promise<ElementOf<T>>;
  store(index: number, value: ElementOf<T>): void | Promise<void>;
  /** Atomically adds `delta` and returns the new value; raises if the result is out of range. */
  add(index: number, delta: ElementOf<T>): ElementOf<T> | Promise<ElementOf<T>>;
  /** Every element, in one consistent read where the backend can. */
  loadAll(): Array<ElementOf<T>> | Promise<Array<ElementOf<T>>>;
}

/**
 * What a backend provides for synchronisation and shared memory. A backend without it cannot
 * create these objects (a clear {@link NotSupportedError} says so).
 *
 * @example
 * ```ts
 * const lock = syncBackendOf(getContext('local').backend, 'Lock').createLock(false);
 * ```
 */
export interface SyncBackend {
  createLock(recursive: boolean): LockImpl;
  createSemaphore(value: number, maxValue: number | undefined): SemaphoreImpl;
  createEvent(): EventImpl;
  createCondition(lock: LockImpl): ConditionImpl;
  createBarrier(parties: number): BarrierImpl;
  /** `items`: initial values (already checked), or a length for zero-filled memory. */
  createSharedMemory<T extends Typecode>(typecode: T, items: ReadonlyArray<ElementOf<T>> | number): SharedMemoryImpl<T>;
}

/**
 * The synchronisation part of a backend; `what` names the class being created for the error.
 *
 * @example
 * ```ts
 * syncBackendOf(backend, 'Lock').createLock(false);
 * ```
 */
export function syncBackendOf(backend: Backend, what: string): SyncBackend {
  const sync = backend.sync;
  if (!sync) {
    throw new NotSupportedError(
      `The '${backend.name}' backend does not provide ${what} (it has no synchronisation primitives yet).`,
    );
  }
  return sync;
}

/**
 * The engines of the synchronisation primitives and shared memory (the SPI behind `Lock`,
 * `Semaphore`, `Value`...). The public classes in `lib/api/` check arguments and hold the
 * semantics that are the same everywhere; an engine stores state and waits. Methods may answer
 * synchronously where the backend can (shared memory) and return promises where it cannot (a
 * network store). Every wait takes a {@link Deadline}; every engine crosses to another thread or
 * machine by {@link PrimitiveEngine.handle}.
 */
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import type { ElementOf, Typecode } from '../api/typecodes.js';
import type { BackendName } from './Backend.js';
import type { Deadline } from './Deadline.js';

/** What every engine of a primitive has. */
export interface PrimitiveEngine {
  /** The backend this object lives in; objects of different backends never mix. */
  readonly backend: BackendName;
  /** How the object crosses to another thread or machine: kind, state and attachments. */
  handle(): HandleDescriptor;
}

/** A lock: non-recursive (`Lock`) or recursive and owner-aware (`RLock`). */
export interface LockEngine extends PrimitiveEngine {
  readonly recursive: boolean;
  /** Takes the lock if that needs no waiting (a non-blocking acquire). */
  tryAcquire(): boolean | Promise<boolean>;
  /** Takes the lock, waiting until `deadline`; resolves false if it passed first. */
  acquire(deadline: Deadline): Promise<boolean>;
  /** Raises ValueError (Lock, not locked) or RuntimeError (RLock, not owned by the caller). */
  release(): void | Promise<void>;
  locked(): boolean | Promise<boolean>;
  /** True when the caller's thread and process hold the lock. */
  isMine(): boolean | Promise<boolean>;
  /**
   * The fencing token of this copy's latest acquisition: a number that grows with every
   * acquisition of the lock by anyone, so that a resource guarded by the lock can refuse a
   * holder whose token is older than one it has seen. `undefined` until this copy acquires.
   */
  readonly fencingToken: number | undefined;
}

/** A counting semaphore, bounded when `maxValue` is set. */
export interface SemaphoreEngine extends PrimitiveEngine {
  readonly maxValue: number | undefined;
  tryAcquire(): boolean | Promise<boolean>;
  acquire(deadline: Deadline): Promise<boolean>;
  /** Adds `n`; raises ValueError when that would pass `maxValue` (and then adds nothing). */
  release(n: number): void | Promise<void>;
  getValue(): number | Promise<number>;
}

export interface EventEngine extends PrimitiveEngine {
  set(): void | Promise<void>;
  clear(): void | Promise<void>;
  isSet(): boolean | Promise<boolean>;
  /** Resolves true once set, false if `deadline` passed first. */
  wait(deadline: Deadline): Promise<boolean>;
}

/** A condition variable over a lock of the same backend. */
export interface ConditionEngine extends PrimitiveEngine {
  readonly lock: LockEngine;
  /** Releases the lock (every level of an RLock), waits, re-acquires; true if notified. */
  wait(deadline: Deadline): Promise<boolean>;
  /** Wakes up to `n` waiters (`Infinity`: all). The caller holds the lock. */
  notify(n: number): void | Promise<void>;
}

export interface BarrierEngine extends PrimitiveEngine {
  readonly parties: number;
  /**
   * Resolves with the arrival index; `action` runs in the last party to arrive. A wait whose
   * deadline passes breaks the barrier (BrokenBarrierError for every waiter).
   */
  wait(deadline: Deadline, action: (() => unknown) | undefined): Promise<number>;
  reset(): void | Promise<void>;
  abort(): void | Promise<void>;
  nWaiting(): number | Promise<number>;
  broken(): boolean | Promise<boolean>;
}

/**
 * A fixed-length array of one typecode (a `Value` is one of length 1). Indexes and values are
 * checked by the public class before they get here.
 */
export interface SharedMemoryEngine<T extends Typecode = Typecode> extends PrimitiveEngine {
  readonly typecode: T;
  readonly length: number;
  load(index: number): ElementOf<T> | Promise<ElementOf<T>>;
  store(index: number, value: ElementOf<T>): void | Promise<void>;
  /** Atomically adds `delta` and returns the new value; raises if the result is out of range. */
  add(index: number, delta: ElementOf<T>): ElementOf<T> | Promise<ElementOf<T>>;
  /** Every element, in one consistent read where the backend can. */
  loadAll(): Array<ElementOf<T>> | Promise<Array<ElementOf<T>>>;
  /**
   * A lock kept with the memory itself, so that `tryLoad`/`tryStore`/`tryAdd` check it in the
   * access's own request (the aws backend's Value: one request where lock, access and release
   * take three); undefined when this memory has none. Optional.
   */
  ownLock?(recursive: boolean): LockEngine | undefined;
  /** Whether `lock` is this memory's own lock (also after both crossed to another thread). */
  ownsLock?(lock: LockEngine): boolean;
  /** The element in one request, or undefined (nothing done) while anyone holds the own lock. */
  tryLoad?(index: number): Promise<{ value: ElementOf<T> } | undefined>;
  /** Stores in one request, or false (nothing done) while anyone holds the own lock. */
  tryStore?(index: number, value: ElementOf<T>): Promise<boolean>;
  /** Adds in one request, or undefined (nothing done) while anyone holds the own lock. */
  tryAdd?(index: number, delta: ElementOf<T>): Promise<{ value: ElementOf<T> } | undefined>;
}

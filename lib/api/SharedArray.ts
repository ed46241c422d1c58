import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { backendPart } from '../backend/Backend.js';
import type { SharedMemoryEngine } from '../backend/SyncEngines.js';
import { toHandle } from '../codec/tags.js';
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import { IndexError, InvalidArgumentError, RuntimeError } from '../errors.js';
import type { Lock } from './Lock.js';
import type { RLock } from './RLock.js';
import { checkHandleTarget } from './handleTarget.js';
import { lockFromOptions, synchronized, type SharedOptions } from './synchronized.js';
import { checkDelta, checkElement, checkTypecode, type ElementOf, type Typecode } from './typecodes.js';

/** The largest SharedArray, in elements. */
const MAX_LENGTH = 2 ** 31 - 1;

/**
 * A fixed-length array of numbers in shared memory, as Python's `multiprocessing.Array`
 * (exported as `SharedArray`, and as `Array` for Python's spelling): every worker it is passed to
 * sees and changes the same elements.
 *
 * Typecodes as `Value`'s. Indexes may be negative, counting from the end as in Python; an index
 * out of range raises `IndexError`. By default each access takes the array's `RLock`
 * (`getLock()`), as in Python; `toArray()` reads every element under one acquisition.
 *
 * @example
 * ```ts
 * const arr = new SharedArray('i', [0, 1, 2, 3]);
 * await pool.apply(negateAll, [arr]);
 * await arr.toArray(); // [-0, -1, -2, -3] as the task wrote them
 * await arr.get(-1); // -3
 * ```
 */
export class SharedArray<T extends Typecode = Typecode> {
  /** @internal The backend's memory. */
  readonly engine: SharedMemoryEngine<T>;
  private readonly lock: Lock | RLock | undefined;

  /**
   * `sizeOrItems`: a length (elements start at zero) or the initial elements (any iterable).
   */
  constructor(
    typecode: T,
    sizeOrItems: number | Iterable<ElementOf<T>>,
    options?: SharedOptions,
    backend: Backend = defaultBackend(),
  ) {
    checkTypecode('new SharedArray(typecode)', typecode);
    let items: ReadonlyArray<ElementOf<T>> | number;
    if (typeof sizeOrItems === 'number') {
      if (!Number.isInteger(sizeOrItems) || sizeOrItems < 0 || sizeOrItems > MAX_LENGTH) {
        throw new InvalidArgumentError('new SharedArray(typecode, size)', sizeOrItems, `a whole number in 0..${MAX_LENGTH}`);
      }
      items = sizeOrItems;
    } else if (sizeOrItems !== null && typeof sizeOrItems === 'object' && Symbol.iterator in sizeOrItems) {
      const list = Array.from(sizeOrItems);
      list.forEach((item, index) => checkElement(typecode, `new SharedArray(typecode, items): item ${index}`, item));
      items = list;
    } else {
      throw new InvalidArgumentError(
        'new SharedArray(typecode, sizeOrItems)',
        sizeOrItems,
        'a length, or an iterable of initial elements',
      );
    }
    // The memory first: a backend without shared arrays refuses in their name, not its lock's.
    const createSharedMemory = backendPart(backend, 'createSharedMemory', 'Array');
    this.lock = lockFromOptions('new SharedArray(typecode, sizeOrItems, options)', options, backend);
    this.engine = createSharedMemory(typecode, items);
  }

  /** @internal Wraps backend memory that crossed from another thread, with its lock. */
  static fromEngine<T extends Typecode>(engine: SharedMemoryEngine<T>, lock: Lock | RLock | undefined): SharedArray<T> {
    const array = Object.create(SharedArray.prototype) as { engine: SharedMemoryEngine<T>; lock: Lock | RLock | undefined };
    array.engine = engine;
    array.lock = lock;
    return array as unknown as SharedArray<T>;
  }

  /** The typecode, such as `'i'`. */
  get typecode(): T {
    return this.engine.typecode;
  }

  /** The number of elements (fixed). */
  get length(): number {
    return this.engine.length;
  }

  /** Element `index` (negative: from the end). */
  async get(index: number): Promise<ElementOf<T>> {
    const at = this.position(index, 'get');
    return synchronized(this.lock, () => this.engine.load(at));
  }

  /** Replaces element `index`; rejects, changing nothing, if `value` does not fit the typecode. */
  async set(index: number, value: ElementOf<T>): Promise<void> {
    const at = this.position(index, 'set');
    checkElement(this.engine.typecode, `SharedArray('${this.engine.typecode}').set(index, value): value`, value);
    await synchronized(this.lock, () => this.engine.store(at, value));
  }

  /** Adds `delta` to element `index` atomically and resolves with its new value. */
  async add(index: number, delta: ElementOf<T>): Promise<ElementOf<T>> {
    const at = this.position(index, 'add');
    checkDelta(this.engine.typecode, `SharedArray('${this.engine.typecode}').add(index, delta): delta`, delta);
    return synchronized(this.lock, () => this.engine.add(at, delta));
  }

  /** A copy of every element, as Python's `arr[:]`. */
  toArray(): Promise<Array<ElementOf<T>>> {
    return synchronized(this.lock, () => this.engine.loadAll());
  }

  /** The lock that guards this array, as Python's `get_lock()`; `RuntimeError` if made with `{ lock: false }`. */
  getLock(): Lock | RLock {
    if (!this.lock) throw new RuntimeError('This SharedArray was created with { lock: false }: it has no lock.');
    return this.lock;
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget('SharedArray', this.engine.backend);
    const described = this.engine.handle();
    return {
      ...described,
      kind: `${this.engine.backend}.array`,
      state: { memory: described.state, typecode: this.engine.typecode, lock: this.lock ?? null },
    };
  }

  /** The position of `index` (negative counts from the end), or IndexError. */
  private position(index: number, method: string): number {
    const length = this.engine.length;
    if (typeof index !== 'number' || !Number.isInteger(index)) {
      throw new InvalidArgumentError(`SharedArray.${method}(index)`, index, 'a whole number');
    }
    if (index < -length || index >= length) {
      throw new IndexError(
        `SharedArray.${method}(index): index ${index} is out of range for a SharedArray of length ${length} ` +
          `(allowed: ${length === 0 ? 'none, it is empty' : `${-length}..${length - 1}`}).`,
        index,
        length,
      );
    }
    return index < 0 ? index + length : index;
  }
}

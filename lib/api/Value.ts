import type { Backend } from '../backend/Backend.js';
import { defaultBackend } from '../backend/backends.js';
import { backendPart } from '../backend/Backend.js';
import type { SharedMemoryEngine } from '../backend/SyncEngines.js';
import { toHandle } from '../codec/tags.js';
import type { HandleDescriptor } from '../codec/ValueEncoder.js';
import { RuntimeError } from '../errors.js';
import type { Lock } from './Lock.js';
import { RLock } from './RLock.js';
import { checkHandleTarget } from './handleTarget.js';
import { InvalidArgumentError } from '../errors.js';
import { checkOptions } from './checks.js';
import { MAX_SHARDS, lockFromOptions, synchronized, type ValueOptions } from './synchronized.js';
import { checkDelta, checkElement, checkTypecode, zeroOf, type ElementOf, type Typecode } from './typecodes.js';

/**
 * One number in shared memory, as Python's `multiprocessing.Value`: every worker it is passed
 * to sees and changes the same number.
 *
 * Typecodes are Python's (`'i'` int, `'d'` double, ...; see `typecodes.ts`): the 64-bit integer
 * typecodes `'l' 'L' 'q' 'Q'` hold `bigint`s, the others `number`s; a value of the wrong type or
 * out of the typecode's range is refused. By default each access takes the Value's `RLock`
 * (`getLock()`), as in Python, so a read-modify-write done while holding the lock is never
 * interleaved with other accesses; `add` is atomic in any case.
 *
 * @example
 * ```ts
 * const counter = new Value('i', 0);
 * await pool.map(incrementTask, [counter, counter, counter]);
 * await counter.get(); // 3
 * await withLock(counter.getLock(), async () => counter.set((await counter.get()) * 2));
 * ```
 */
export class Value<T extends Typecode = Typecode> {
  /** @internal The backend's memory (one element). */
  readonly engine: SharedMemoryEngine<T>;
  private readonly lock: Lock | RLock | undefined;
  /** The lock is the memory's own (see `SharedMemoryEngine.ownLock`): an access checks it in its own request. */
  private readonly ownLock: boolean;

  constructor(typecode: T, init?: ElementOf<T>, options?: ValueOptions, backend: Backend = defaultBackend()) {
    checkTypecode('new Value(typecode)', typecode);
    const initial = init === undefined ? zeroOf(typecode) : init;
    checkElement(typecode, 'new Value(typecode, init): init', initial);
    // The memory first: a backend without shared values refuses in their name, not its lock's.
    const createSharedMemory = backendPart(backend, 'createSharedMemory', 'Value');
    const where = 'new Value(typecode, init, options)';
    checkOptions(where, options, ['lock', 'shards']);
    const shards = shardsOf(where, options);
    if (shards > 1 && options?.lock !== undefined && options.lock !== false) {
      throw new InvalidArgumentError(
        `${where}: lock`,
        options.lock,
        'false or unset with shards: a sharded Value has no lock, since one lock would be the hot spot the shards avoid',
      );
    }
    this.engine = createSharedMemory(typecode, [initial], { shards });
    // The default RLock is the memory's own where it has one (the aws backend's Value).
    const own = (options?.lock ?? true) === true ? this.engine.ownLock?.(true) : undefined;
    this.lock =
      shards > 1 ? undefined : own ? RLock.fromEngine(own) : lockFromOptions(where, options, backend, ['lock', 'shards']);
    this.ownLock = isOwnLock(this.engine, this.lock);
  }

  /** @internal Wraps backend memory that crossed from another thread, with its lock. */
  static fromEngine<T extends Typecode>(engine: SharedMemoryEngine<T>, lock: Lock | RLock | undefined): Value<T> {
    const value = Object.create(Value.prototype) as {
      engine: SharedMemoryEngine<T>;
      lock: Lock | RLock | undefined;
      ownLock: boolean;
    };
    value.engine = engine;
    value.lock = lock;
    value.ownLock = isOwnLock(engine, lock);
    return value as unknown as Value<T>;
  }

  /** The typecode, such as `'i'`. */
  get typecode(): T {
    return this.engine.typecode;
  }

  /** The current value. */
  async get(): Promise<ElementOf<T>> {
    if (await this.lockIsFreeToCheck()) {
      const loaded = await this.engine.tryLoad!(0);
      if (loaded) return loaded.value;
    }
    return synchronized(this.lock, () => this.engine.load(0));
  }

  /** Replaces the value; rejects, changing nothing, if `value` does not fit the typecode. */
  async set(value: ElementOf<T>): Promise<void> {
    checkElement(this.engine.typecode, `Value('${this.engine.typecode}').set(value): value`, value);
    if ((await this.lockIsFreeToCheck()) && (await this.engine.tryStore!(0, value))) return;
    await synchronized(this.lock, () => this.engine.store(0, value));
  }

  /**
   * Whether an access may try the one-request path: the lock is the memory's own and this thread
   * does not hold it (a holder goes straight in, as every synchronized access does). The try
   * fails while anyone holds the lock, and the access then waits for it.
   */
  private async lockIsFreeToCheck(): Promise<boolean> {
    return this.ownLock && !(await this.lock!.engine.isMine());
  }

  /**
   * Adds `delta` atomically (no update from any thread is ever lost) and resolves with the new
   * value. Rejects, changing nothing, if `delta` or the result does not fit the typecode.
   */
  async add(delta: ElementOf<T>): Promise<ElementOf<T>> {
    const typecode = this.engine.typecode;
    checkDelta(typecode, `Value('${typecode}').add(delta): delta`, delta);
    if (await this.lockIsFreeToCheck()) {
      const added = await this.engine.tryAdd!(0, delta);
      if (added) return added.value;
    }
    return synchronized(this.lock, () => this.engine.add(0, delta));
  }

  /** The lock that guards this value, as Python's `get_lock()`; `RuntimeError` if made with `{ lock: false }`. */
  getLock(): Lock | RLock {
    if (!this.lock) throw new RuntimeError('This Value was created with { lock: false }: it has no lock.');
    return this.lock;
  }

  [toHandle](): HandleDescriptor {
    checkHandleTarget('Value', this.engine.backend);
    const described = this.engine.handle();
    return {
      ...described,
      kind: `${this.engine.backend}.value`,
      state: { memory: described.state, typecode: this.engine.typecode, lock: this.lock ?? null },
    };
  }
}

function shardsOf(where: string, options: ValueOptions | undefined): number {
  const shards = options?.shards === undefined ? 1 : options.shards;
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new InvalidArgumentError(`${where}: shards`, shards, `a whole number from 1 to ${MAX_SHARDS}`);
  }
  return shards;
}

function isOwnLock(engine: SharedMemoryEngine, lock: Lock | RLock | undefined): boolean {
  return lock !== undefined && engine.ownsLock?.(lock.engine) === true;
}

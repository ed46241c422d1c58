import { randomUUID } from 'node:crypto';
import type { LockEngine, SharedMemoryEngine } from '../../backend/SyncEngines.js';
import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import { checkElement, isElement, typecodeInfo, type ElementOf, type Typecode } from '../../api/typecodes.js';
import { InvalidArgumentError } from '../../errors.js';
import { AwsBackend } from './AwsBackend.js';
import type { AwsConfig } from './AwsConfig.js';
import type { CounterStore } from './CounterStore.js';
import { AwsLock, type LockItem } from './AwsLock.js';
import { objectKey } from './tableKeys.js';

/** Options of {@link AwsSharedMemory.create}. */
export interface AwsSharedMemoryOptions {
  /**
   * Spread a Value over this many items (each in a partition of its own): `add` goes to a random
   * one, so a hot counter takes about this many times the ~1,000 writes/s of one item; reads sum
   * them. Only for length 1 (a Value). @default 1
   */
  shards?: number;
  /** The handle kind: `aws.value` or `aws.array`. @default 'value' for length 1, else 'array' */
  shape?: 'value' | 'array';
}

/** The state of an `aws.value` / `aws.array` handle. */
export interface AwsSharedMemoryState {
  id: string;
  config: AwsConfig;
  typecode: Typecode;
  length: number;
  /** The initial value of every element, as a DynamoDB number (an array made by size, or uniform). */
  fill?: string;
  /** The initial elements, as DynamoDB numbers, when they differ. */
  items?: string[];
  shards: number;
  shape: 'value' | 'array';
}

/** The largest finite float32, and what a DynamoDB number holds. */
const FLOAT32_MAX = 3.4028234663852886e38;
const DYNAMO_MAX_MAGNITUDE = 9.999999999999999e125;
const DYNAMO_MIN_MAGNITUDE = 1e-130;
/** The part of a Value's item (its element 0: `e0`, as CounterStore keys it), where its own lock lives. */
const OWN_ITEM_PART = 'e0';
/** BatchGetItem's limit, so that a sharded read is one request. */
const MAX_SHARDS = 100;

/**
 * A `Value` or `SharedArray` on the aws backend: one DynamoDB item per element, created by its
 * first write (an element never written reads as its initial value, which the handle carries, so
 * making one costs no request). `add` is one conditional UpdateItem, `SET v = if_not_exists(v,
 * :init) + :delta`, whose condition keeps the typecode's range: an `add` that would leave it
 * changes nothing and raises as on the local backend (integers never wrap). `load` is a strongly
 * consistent GetItem, `store` an UpdateItem, `loadAll` a strongly consistent Query. With
 * `shards`, a Value is a sharded counter.
 *
 * Numbers are DynamoDB's decimals: integers of every typecode (64-bit too) are exact; a float
 * `add` is exact in decimal and then rounded to the typecode (so `0.1 + 0.2` reads `0.3`), and a
 * float DynamoDB cannot hold (NaN, ±Infinity, a magnitude above about 1e126 or below 1e-130) is
 * refused.
 *
 * @example
 * ```ts
 * const counter = AwsSharedMemory.create(backend, config, 'i', [0]);
 * await counter.add(0, 5); // 5
 * ```
 */
export class AwsSharedMemory<T extends Typecode = Typecode> implements SharedMemoryEngine<T> {
  readonly backend = 'aws' as const;
  readonly typecode: T;
  readonly length: number;
  private storePromise: Promise<CounterStore> | undefined;

  private constructor(
    private readonly awsBackend: AwsBackend,
    private readonly state: AwsSharedMemoryState,
  ) {
    this.typecode = state.typecode as T;
    this.length = state.length;
  }

  /** New shared memory of `items.length` elements set to `items`, or of `items` zeros. No request. */
  static create<T extends Typecode>(
    backend: AwsBackend,
    config: AwsConfig,
    typecode: T,
    items: ReadonlyArray<ElementOf<T>> | number,
    options: AwsSharedMemoryOptions = {},
  ): AwsSharedMemory<T> {
    const length = typeof items === 'number' ? items : items.length;
    const shards = options.shards ?? 1;
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
      throw new InvalidArgumentError('the shards option of shared memory on aws', shards, `a whole number in 1..${MAX_SHARDS}`);
    }
    if (shards > 1 && length !== 1) {
      throw new InvalidArgumentError(
        'the shards option of shared memory on aws',
        shards,
        '1 for an array of more than one element',
        'Only a Value (one element) can be a sharded counter.',
      );
    }
    const state: AwsSharedMemoryState = {
      id: randomUUID(),
      config,
      typecode,
      length,
      shards,
      shape: options.shape ?? (length === 1 ? 'value' : 'array'),
    };
    if (typeof items === 'number') {
      state.fill = '0';
    } else {
      const encoded = items.map((item, index) => toDynamo(typecode, `new SharedArray(typecode, items): item ${index}`, item));
      if (encoded.every((item) => item === encoded[0])) state.fill = encoded[0] ?? '0';
      else state.items = encoded;
    }
    return new AwsSharedMemory(backend, state);
  }

  /** Re-binds a handle's state to this thread's backend for its resources. */
  static fromHandle<T extends Typecode = Typecode>(state: AwsSharedMemoryState): AwsSharedMemory<T> {
    return new AwsSharedMemory<T>(AwsBackend.forConfig(state.config), state);
  }

  handle(): HandleDescriptor {
    return { kind: `aws.${this.state.shape}`, state: this.state };
  }

  async load(index: number): Promise<ElementOf<T>> {
    const store = await this.counters();
    if (this.state.shards > 1) return this.fromDynamo(this.sum(await this.shardValues(store)));
    return this.fromDynamo((await store.get(store.key(index))) ?? this.initial(index));
  }

  async store(index: number, value: ElementOf<T>): Promise<void> {
    const encoded = toDynamo(this.typecode, `${this.name()}.set(value)`, value);
    const store = await this.counters();
    if (this.state.shards > 1) {
      // Not atomic with concurrent adds to other shards: a sharded counter is for adding.
      const shards = Array.from({ length: this.state.shards }, (_, shard) => ({
        key: store.key(0, shard),
        value: shard === 0 ? encoded : '0',
      }));
      await store.setMany(shards);
      return;
    }
    await store.set(store.key(index), encoded);
  }

  async add(index: number, delta: ElementOf<T>): Promise<ElementOf<T>> {
    if (this.state.shards > 1) {
      const encodedDelta = toDynamo(this.typecode, `${this.name()}.add(delta)`, delta, true);
      return this.addSharded(await this.counters(), delta, encodedDelta, `the result of add(${String(delta)}) at index 0`);
    }
    return (await this.addToElement(index, delta, false))!.value;
  }

  /**
   * Adds to one element in one conditional UpdateItem; with `unlocked`, only while the own lock
   * is free (undefined, nothing added, while it is held).
   */
  private async addToElement(
    index: number,
    delta: ElementOf<T>,
    unlocked: boolean,
  ): Promise<{ value: ElementOf<T> } | undefined> {
    const typecode = this.typecode;
    const where = `the result of add(${String(delta)}) at index ${index}`;
    const encodedDelta = toDynamo(typecode, `${this.name()}.add(delta)`, delta, true);
    const store = await this.counters();
    const init = this.initial(index);
    const guard = rangeGuard(typecode, delta);
    const absentOk = isElement(typecode, this.plus(init, delta));
    for (;;) {
      const outcome = await this.guarded(
        () => store.add(store.key(index), init, encodedDelta, { ...guard, absentOk, unlocked }),
        where,
      );
      if (outcome.added) return { value: this.fromDynamo(outcome.value) };
      if (outcome.locked) return undefined;
      // Refused: say why with the value that refused it (as the local backend does); if it has
      // changed since and now fits, add again.
      const current = outcome.current ?? (await store.get(store.key(index))) ?? init;
      checkElement(typecode, where, this.plus(current, delta));
    }
  }

  /**
   * This Value's own lock: a lease on the Value's own item, so that {@link tryLoad},
   * {@link tryStore} and {@link tryAdd} check it in the request that does the access (one request
   * where lock, access and release would take three). A Value only (one element, one shard).
   */
  ownLock(recursive: boolean): AwsLock | undefined {
    if (this.state.shape !== 'value' || this.length !== 1 || this.state.shards > 1) return undefined;
    return new AwsLock(this.awsBackend, this.state.config, { recursive, item: this.ownItem() });
  }

  /** Whether `lock` is this Value's own lock (see {@link ownLock}), here or revived from a handle. */
  ownsLock(lock: LockEngine): boolean {
    if (!(lock instanceof AwsLock) || this.state.shape !== 'value' || this.state.shards > 1) return false;
    const own = objectKey(this.state.shape, this.state.id, OWN_ITEM_PART);
    return lock.config.table === this.state.config.table && lock.key.pk?.S === own.pk?.S && lock.key.sk?.S === own.sk?.S;
  }

  /** The value in one read, or undefined (nothing read) while someone holds the own lock. */
  async tryLoad(index: number): Promise<{ value: ElementOf<T> } | undefined> {
    const store = await this.counters();
    const read = await store.getWithLock(store.key(index));
    return read.locked ? undefined : { value: this.fromDynamo(read.value ?? this.initial(index)) };
  }

  /** Stores in one write, or false (nothing stored) while someone holds the own lock. */
  async tryStore(index: number, value: ElementOf<T>): Promise<boolean> {
    const encoded = toDynamo(this.typecode, `${this.name()}.set(value)`, value);
    const store = await this.counters();
    return store.set(store.key(index), encoded, true);
  }

  /** Adds in one write and returns the new value, or undefined (nothing added) while someone holds the own lock. */
  tryAdd(index: number, delta: ElementOf<T>): Promise<{ value: ElementOf<T> } | undefined> {
    return this.addToElement(index, delta, true);
  }

  private ownItem(): LockItem {
    return { kind: this.state.shape, id: this.state.id, part: OWN_ITEM_PART };
  }

  async loadAll(): Promise<Array<ElementOf<T>>> {
    const store = await this.counters();
    if (this.state.shards > 1) return [this.fromDynamo(this.sum(await this.shardValues(store)))];
    const written = await store.elements();
    return Array.from({ length: this.length }, (_, index) => this.fromDynamo(written.get(index) ?? this.initial(index)));
  }

  /**
   * A sharded add: one UpdateItem on a random shard, then one BatchGetItem of every shard for
   * the total it returns. The range is kept by taking back an add whose total leaves it (so a
   * reader may glimpse the out-of-range total in between).
   */
  private async addSharded(store: CounterStore, delta: ElementOf<T>, encodedDelta: string, where: string): Promise<ElementOf<T>> {
    const shard = Math.floor(Math.random() * this.state.shards);
    const key = store.key(0, shard);
    const init = shard === 0 ? this.initial(0) : '0';
    const outcome = await this.guarded(() => store.add(key, init, encodedDelta, { absentOk: true }), where);
    if (!outcome.added) throw new Error('an unconditional add was refused');
    const values = await this.shardValues(store);
    values[shard] = outcome.value;
    const total = this.fromDynamo(this.sum(values));
    if (!isElement(this.typecode, total)) {
      const undo = toDynamo(this.typecode, where, this.negate(delta), true);
      await store.add(key, init, undo, { absentOk: true });
      checkElement(this.typecode, where, total);
    }
    return total;
  }

  /** The store module, loaded (with the SDK and the session) on first use. */
  private counters(): Promise<CounterStore> {
    this.storePromise ??= Promise.all([this.awsBackend.session(), import('./CounterStore.js')]).then(
      ([session, module]) => new module.CounterStore(session, this.state.shape, this.state.id),
    );
    return this.storePromise;
  }

  /** Every shard's number (`undefined` read as its initial value). */
  private async shardValues(store: CounterStore): Promise<string[]> {
    const keys = Array.from({ length: this.state.shards }, (_, shard) => store.key(0, shard));
    const values = await store.getMany(keys);
    return values.map((value, shard) => value ?? (shard === 0 ? this.initial(0) : '0'));
  }

  /** Runs a DynamoDB add, turning DynamoDB's refusal of a number into the typecode's error. */
  private async guarded<R>(request: () => Promise<R>, where: string): Promise<R> {
    try {
      return await request();
    } catch (error) {
      const { isNumberRefused } = await import('./CounterStore.js');
      if (!isNumberRefused(error)) throw error;
      throw new InvalidArgumentError(
        `${where} for typecode '${this.typecode}' on the aws backend`,
        'a number DynamoDB cannot hold',
        `within what a DynamoDB number holds (38 significant digits, magnitudes ${DYNAMO_MIN_MAGNITUDE}..${DYNAMO_MAX_MAGNITUDE})`,
        (error as Error).message,
      );
    }
  }

  private initial(index: number): string {
    return this.state.fill ?? this.state.items?.[index] ?? '0';
  }

  /** `a + b` for DynamoDB number `a`, exactly for integers. */
  private plus(a: string, b: ElementOf<T>): ElementOf<T> {
    return (typeof b === 'bigint' ? BigInt(a) + b : Number(a) + (b as number)) as ElementOf<T>;
  }

  private negate(value: ElementOf<T>): ElementOf<T> {
    return (typeof value === 'bigint' ? -value : -(value as number)) as ElementOf<T>;
  }

  /** The sum of DynamoDB numbers, exactly for integers. */
  private sum(values: string[]): string {
    if (typecodeInfo[this.typecode].kind === 'float') return String(values.reduce((total, value) => total + Number(value), 0));
    return values.reduce((total, value) => total + BigInt(value), 0n).toString();
  }

  private fromDynamo(value: string): ElementOf<T> {
    switch (typecodeInfo[this.typecode].kind) {
      case 'bigint':
        return BigInt(value) as ElementOf<T>;
      case 'int':
        return Number(value) as ElementOf<T>;
      default:
        return (this.typecode === 'f' ? Math.fround(Number(value)) : Number(value)) as ElementOf<T>;
    }
  }

  private name(): string {
    return this.state.shape === 'value' ? `Value('${this.typecode}')` : `SharedArray('${this.typecode}')`;
  }
}

/**
 * A value as a DynamoDB number (a float32 rounded as the local backend stores it, unless it is
 * a `delta`, added at full precision as there); a float DynamoDB cannot hold is refused.
 */
function toDynamo(typecode: Typecode, where: string, value: number | bigint, delta = false): string {
  if (typeof value === 'bigint') return value.toString();
  const stored = typecode === 'f' && !delta ? Math.fround(value) : value;
  const magnitude = Math.abs(stored);
  if (!Number.isFinite(stored) || (magnitude !== 0 && (magnitude < DYNAMO_MIN_MAGNITUDE || magnitude > DYNAMO_MAX_MAGNITUDE))) {
    throw new InvalidArgumentError(
      `${where} for typecode '${typecode}' on the aws backend`,
      value,
      `0 or a finite number of magnitude ${DYNAMO_MIN_MAGNITUDE}..${DYNAMO_MAX_MAGNITUDE}`,
      'The aws backend keeps shared numbers in DynamoDB, whose numbers hold no NaN, Infinity or larger magnitudes.',
    );
  }
  return String(stored);
}

/**
 * The condition on the old value that keeps `old + delta` in the typecode's range: exact for
 * integers (computed with bigints), approximate at float32's limit, none for doubles (DynamoDB's
 * own range refuses what it cannot hold).
 */
function rangeGuard(typecode: Typecode, delta: number | bigint): { atMost?: string; atLeast?: string } {
  const info = typecodeInfo[typecode];
  if (info.kind === 'float') {
    if (typecode === 'd' || delta === 0) return {};
    const d = delta as number;
    return d > 0 ? { atMost: String(FLOAT32_MAX - d) } : { atLeast: String(-FLOAT32_MAX - d) };
  }
  const d = BigInt(delta);
  if (d > 0n) return { atMost: (BigInt(info.max!) - d).toString() };
  if (d < 0n) return { atLeast: (BigInt(info.min!) - d).toString() };
  return {};
}

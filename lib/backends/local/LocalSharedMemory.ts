import type { HandleDescriptor } from '../../codec/ValueEncoder.js';
import type { SharedMemoryEngine } from '../../backend/SyncEngines.js';
import { checkElement, typecodeInfo, type ElementOf, type Typecode } from '../../api/typecodes.js';
import { InvalidArgumentError } from '../../errors.js';
import { sharedWords } from './sharedWords.js';

type IntegerArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
type BigIntArray = BigInt64Array | BigUint64Array;

/**
 * A fixed-length array of one typecode in a SharedArrayBuffer (local backend). Every access is
 * an `Atomics` operation, so no read is ever torn, and `add` is a compare-and-swap loop: lock-free
 * and never losing an update, for floats as for integers (floats are swapped by their bits). An
 * `add` whose result would leave the typecode's range fails and changes nothing.
 *
 * @example
 * ```ts
 * const memory = LocalSharedMemory.create('i', [1, 2, 3]);
 * memory.add(0, 10); // 11
 * ```
 */
export class LocalSharedMemory<T extends Typecode = Typecode> implements SharedMemoryEngine<T> {
  readonly backend = 'local' as const;
  readonly length: number;
  /** The array the atomics work on: integer typecodes as themselves, floats as their bits. */
  private readonly atomic: IntegerArray | BigIntArray;
  /** For floats: the same memory seen as floats (read only through `atomic`'s bits). */
  private readonly scratch: Float32Array | Float64Array | undefined;
  private readonly scratchBits: Int32Array | BigInt64Array | undefined;

  private constructor(
    readonly typecode: T,
    readonly buffer: SharedArrayBuffer,
  ) {
    const info = typecodeInfo[typecode];
    this.length = buffer.byteLength / info.bytes;
    switch (typecode) {
      case 'b':
        this.atomic = new Int8Array(buffer);
        break;
      case 'B':
        this.atomic = new Uint8Array(buffer);
        break;
      case 'h':
        this.atomic = new Int16Array(buffer);
        break;
      case 'H':
        this.atomic = new Uint16Array(buffer);
        break;
      case 'i':
        this.atomic = new Int32Array(buffer);
        break;
      case 'I':
        this.atomic = new Uint32Array(buffer);
        break;
      case 'l':
      case 'q':
        this.atomic = new BigInt64Array(buffer);
        break;
      case 'L':
      case 'Q':
        this.atomic = new BigUint64Array(buffer);
        break;
      case 'f': {
        this.atomic = new Int32Array(buffer);
        const scratch = new ArrayBuffer(4);
        this.scratch = new Float32Array(scratch);
        this.scratchBits = new Int32Array(scratch);
        break;
      }
      default: {
        this.atomic = new BigInt64Array(buffer);
        const scratch = new ArrayBuffer(8);
        this.scratch = new Float64Array(scratch);
        this.scratchBits = new BigInt64Array(scratch);
      }
    }
  }

  /** Shared memory of `items.length` elements set to `items`, or of `items` zeros. */
  static create<T extends Typecode>(typecode: T, items: ReadonlyArray<ElementOf<T>> | number): LocalSharedMemory<T> {
    const length = typeof items === 'number' ? items : items.length;
    let buffer: SharedArrayBuffer;
    try {
      buffer = new SharedArrayBuffer(length * typecodeInfo[typecode].bytes);
    } catch (error) {
      throw new InvalidArgumentError(
        `the size of shared memory of typecode '${typecode}'`,
        length,
        'a size this machine can allocate',
        error instanceof Error ? error.message : undefined,
      );
    }
    const memory = new LocalSharedMemory(typecode, buffer);
    if (typeof items !== 'number') for (let i = 0; i < length; i++) memory.store(i, items[i]!);
    return memory;
  }

  static fromHandle<T extends Typecode>(kind: string, typecode: T, attachments: unknown[]): LocalSharedMemory<T> {
    const buffer = sharedWords(kind, attachments, 0, 0);
    if (buffer.byteLength % typecodeInfo[typecode].bytes !== 0) {
      throw new InvalidArgumentError(
        `the shared memory of a '${kind}'`,
        buffer.byteLength,
        `a multiple of ${typecodeInfo[typecode].bytes} bytes`,
      );
    }
    return new LocalSharedMemory(typecode, buffer);
  }

  handle(): HandleDescriptor {
    return { kind: 'local.memory', state: { typecode: this.typecode }, attachments: [this.buffer] };
  }

  load(index: number): ElementOf<T> {
    return this.decode(Atomics.load(this.atomic as Int32Array, index)) as ElementOf<T>;
  }

  store(index: number, value: ElementOf<T>): void {
    Atomics.store(this.atomic as Int32Array, index, this.encode(value) as number);
  }

  add(index: number, delta: ElementOf<T>): ElementOf<T> {
    const atomic = this.atomic as Int32Array;
    for (;;) {
      const bits = Atomics.load(atomic, index);
      const next = ((this.decode(bits) as number) + (delta as number)) as ElementOf<T>;
      checkElement(this.typecode, `the result of add(${String(delta)}) at index ${index}`, next);
      const nextBits = this.encode(next) as number;
      if (Atomics.compareExchange(atomic, index, bits, nextBits) === bits) return this.decode(nextBits) as ElementOf<T>;
    }
  }

  loadAll(): Array<ElementOf<T>> {
    const values = new Array<ElementOf<T>>(this.length);
    for (let i = 0; i < this.length; i++) values[i] = this.load(i);
    return values;
  }

  /** Element value from what the atomic array holds. */
  private decode(bits: number | bigint): number | bigint {
    const scratch = this.scratch;
    if (!scratch) return bits;
    this.scratchBits![0] = bits as never;
    return scratch[0]!;
  }

  /** What the atomic array holds for an element value. */
  private encode(value: number | bigint): number | bigint {
    const scratch = this.scratch;
    if (!scratch) return value;
    scratch[0] = value as number;
    return this.scratchBits![0]!;
  }
}

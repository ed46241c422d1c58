import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from 'fanout';
import { LocalSharedMemory } from '../../../../lib/backends/local/LocalSharedMemory.js';
import { typecodeInfo, typecodes, type Typecode } from '../../../../lib/api/typecodes.js';

describe('LocalSharedMemory', () => {
  it('stores and loads the bounds of every typecode exactly', () => {
    for (const typecode of typecodes) {
      const info = typecodeInfo[typecode];
      const values = (info.kind === 'float' ? [-1.5, 0.25, typecode === 'd' ? 1e300 : 3.0e38] : [info.min, info.max]) as never[];
      const memory = LocalSharedMemory.create(typecode as Typecode, values);
      expect(memory.length).toBe(values.length);
      expect(memory.buffer.byteLength).toBe(values.length * info.bytes);
      expect(memory.loadAll()).toEqual(values.map((v) => (typecode === 'f' ? Math.fround(v as number) : v)));
    }
  });

  it('starts zero-filled when given a length', () => {
    expect(LocalSharedMemory.create('q', 3).loadAll()).toEqual([0n, 0n, 0n]);
    expect(LocalSharedMemory.create('d', 0).loadAll()).toEqual([]);
  });

  it('adds atomically and returns the new value, for floats too', () => {
    const ints = LocalSharedMemory.create('b', [120]);
    expect(ints.add(0, 7)).toBe(127);
    const doubles = LocalSharedMemory.create('d', [0.5]);
    expect(doubles.add(0, 0.25)).toBe(0.75);
    const singles = LocalSharedMemory.create('f', [0.1]);
    expect(singles.add(0, 0.2)).toBe(Math.fround(Math.fround(0.1) + 0.2));
    const bigs = LocalSharedMemory.create('L', [2n ** 64n - 2n]);
    expect(bigs.add(0, 1n)).toBe(2n ** 64n - 1n);
  });

  it('refuses an add whose result leaves the range, and changes nothing', () => {
    const bytes = LocalSharedMemory.create('B', [250]);
    expect(() => bytes.add(0, 6)).toThrow(InvalidArgumentError);
    expect(() => bytes.add(0, 6)).toThrow(/0\.\.255/);
    expect(bytes.load(0)).toBe(250);
    const bigs = LocalSharedMemory.create('q', [2n ** 63n - 1n]);
    expect(() => bigs.add(0, 1n)).toThrow(/typecode 'q'/);
    expect(bigs.load(0)).toBe(2n ** 63n - 1n);
  });

  it('re-binds from its handle, refusing memory of the wrong size', () => {
    const memory = LocalSharedMemory.create('i', [1, 2]);
    const twin = LocalSharedMemory.fromHandle('local.array', 'i', memory.handle().attachments!);
    twin.store(1, 5);
    expect(memory.load(1)).toBe(5);
    expect(() => LocalSharedMemory.fromHandle('local.value', 'd', [new SharedArrayBuffer(4)])).toThrow(/multiple of 8 bytes/);
  });
});

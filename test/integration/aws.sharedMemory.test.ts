import { describe, expect, it } from 'vitest';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { AwsSharedMemory, type AwsSharedMemoryState } from '../../lib/backends/aws/AwsSharedMemory.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import { AwsLock } from '../../lib/backends/aws/AwsLock.js';
import { LockOwner } from '../../lib/backends/aws/awsOwner.js';
import { Deadline } from '../../lib/backend/Deadline.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import { Context } from 'fanout';
import { provisionForTest } from './awsHarness.js';

/** A backend of its own: one "worker" with its own session and sockets. */
function worker(config: AwsConfig): AwsBackend {
  return new AwsBackend({ config, counter: new RequestCounter() });
}

/** The same memory seen from another backend (as a handle arriving on another worker). */
function copyOn<T extends AwsSharedMemory>(memory: T, backend: AwsBackend): AwsSharedMemory {
  const revived = AwsSharedMemory.fromHandle(memory.handle().state as AwsSharedMemoryState);
  // fromHandle binds to this thread's backend for the config; rebind to `backend` for a separate session.
  (revived as unknown as { awsBackend: AwsBackend }).awsBackend = backend;
  return revived;
}

describe('aws shared memory (Value, Array) on the emulators', () => {
  it('Value.add is exactly one UpdateItem and returns the new value; load and store are one request each', async () => {
    const config = await provisionForTest('value-add');
    const backend = worker(config);
    const value = AwsSharedMemory.create(backend, config, 'i', [5]);
    expect(value.handle().kind).toBe('aws.value');
    expect(await value.load(0)).toBe(5); // never written: the initial value
    await backend.session();
    const before = backend.counter.snapshot();
    expect(await value.add(0, 3)).toBe(8);
    const after = backend.counter.snapshot();
    expect(after.total - before.total).toBe(1);
    expect((after.requests['DynamoDB.UpdateItem'] ?? 0) - (before.requests['DynamoDB.UpdateItem'] ?? 0)).toBe(1);
    await value.store(0, -7);
    expect(await value.load(0)).toBe(-7);
    expect(await value.add(0, -1)).toBe(-8);
    expect(backend.counter.snapshot().total - after.total).toBe(3);
    await backend.close();
  });

  it('20 workers × 100 adds give the exact total', async () => {
    const config = await provisionForTest('value-20x100');
    const owner = worker(config);
    const counter = AwsSharedMemory.create(owner, config, 'q', [0n]);
    const workers = Array.from({ length: 20 }, () => worker(config));
    const results = await Promise.all(
      workers.map(async (backend) => {
        const copy = copyOn(counter, backend);
        const seen: bigint[] = [];
        for (let i = 0; i < 100; i++) seen.push((await copy.add(0, 1n)) as bigint);
        return seen;
      }),
    );
    expect(await counter.load(0)).toBe(2000n);
    // Every add returned a distinct new value: 1..2000 each exactly once.
    const all = results.flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(all).toEqual(Array.from({ length: 2000 }, (_, i) => BigInt(i + 1)));
    await Promise.all([owner, ...workers].map((backend) => backend.close()));
  }, 120_000);

  it('refuses an add that would leave the typecode range, changing nothing, as the local backend does', async () => {
    const config = await provisionForTest('value-range');
    const backend = worker(config);
    const byte = AwsSharedMemory.create(backend, config, 'b', [120]);
    expect(await byte.add(0, 7)).toBe(127);
    await expect(byte.add(0, 1)).rejects.toThrow(InvalidArgumentError);
    await expect(byte.add(0, 1)).rejects.toThrow(/the result of add\(1\) at index 0 for typecode 'b'.*-128\.\.127; got 128/);
    expect(await byte.load(0)).toBe(127);
    await expect(byte.add(0, -256)).rejects.toThrow(/got -129/);
    expect(await byte.add(0, -255)).toBe(-128);

    // Never written and already out of range after the add: refused too.
    const unsigned = AwsSharedMemory.create(backend, config, 'B', [0]);
    await expect(unsigned.add(0, -1)).rejects.toThrow(/0\.\.255; got -1/);
    expect(await unsigned.load(0)).toBe(0);

    // 64-bit bounds are exact.
    const big = AwsSharedMemory.create(backend, config, 'Q', [2n ** 64n - 2n]);
    expect(await big.add(0, 1n)).toBe(2n ** 64n - 1n);
    await expect(big.add(0, 1n)).rejects.toThrow(/got 18446744073709551616 \(bigint\)/);
    const signed = AwsSharedMemory.create(backend, config, 'q', [-(2n ** 63n) + 1n]);
    expect(await signed.add(0, -1n)).toBe(-(2n ** 63n));
    await expect(signed.add(0, -1n)).rejects.toThrow(InvalidArgumentError);
    await backend.close();
  });

  it('adds floats in DynamoDB decimals, rounds float32 as the local backend stores it, refuses what DynamoDB cannot hold', async () => {
    const config = await provisionForTest('value-float');
    const backend = worker(config);
    const double = AwsSharedMemory.create(backend, config, 'd', [0.1]);
    expect(await double.add(0, 0.2)).toBe(0.3); // exact decimal sum, read back as the nearest double
    expect(await double.add(0, -1.5)).toBe(-1.2);
    await expect(double.store(0, Number.NaN)).rejects.toThrow(/on the aws backend.*got NaN/);
    await expect(double.store(0, 1e300)).rejects.toThrow(InvalidArgumentError);
    expect(() => AwsSharedMemory.create(backend, config, 'd', [Infinity])).toThrow(/on the aws backend/);
    expect(await double.load(0)).toBe(-1.2);

    const single = AwsSharedMemory.create(backend, config, 'f', [0.1]);
    expect(await single.load(0)).toBe(Math.fround(0.1));
    await single.store(0, 3e38);
    await expect(single.add(0, 1e38)).rejects.toThrow(/typecode 'f'/);
    expect(await single.load(0)).toBe(Math.fround(3e38));
    await backend.close();
  });

  it('Array: load, store, add per element, loadAll in one Query with unwritten elements at their initial values', async () => {
    const config = await provisionForTest('array');
    const backend = worker(config);
    const array = AwsSharedMemory.create(backend, config, 'h', [1, 2, 3, 4]);
    expect(array.handle().kind).toBe('aws.array');
    expect(array.length).toBe(4);
    expect(await array.loadAll()).toEqual([1, 2, 3, 4]);
    await array.store(2, -30);
    expect(await array.add(3, 10)).toBe(14);
    expect(await array.load(0)).toBe(1);
    await backend.session();
    const before = backend.counter.snapshot();
    expect(await array.loadAll()).toEqual([1, 2, -30, 14]);
    const after = backend.counter.snapshot();
    expect(after.total - before.total).toBe(1);
    expect((after.requests['DynamoDB.Query'] ?? 0) - (before.requests['DynamoDB.Query'] ?? 0)).toBe(1);
    await expect(array.add(2, -32768)).rejects.toThrow(/got -32798/);

    // Another worker sees the same elements through the handle.
    const other = worker(config);
    expect(await copyOn(array, other).loadAll()).toEqual([1, 2, -30, 14]);
    const zeros = AwsSharedMemory.create(backend, config, 'I', 3);
    expect(await zeros.loadAll()).toEqual([0, 0, 0]);
    expect(zeros.handle().state).not.toHaveProperty('items');
    await Promise.all([backend.close(), other.close()]);
  });

  it('a sharded counter stays exact under concurrency: adds spread over the shards, loads sum them in one BatchGetItem', async () => {
    const config = await provisionForTest('sharded');
    const owner = worker(config);
    const counter = AwsSharedMemory.create(owner, config, 'i', [100], { shards: 8 });
    const workers = Array.from({ length: 10 }, () => worker(config));
    const returned = await Promise.all(
      workers.map(async (backend) => {
        const copy = copyOn(counter, backend);
        let last = 0;
        for (let i = 0; i < 50; i++) last = (await copy.add(0, 2)) as number;
        return last;
      }),
    );
    for (const last of returned) expect(last).toBeGreaterThanOrEqual(100 + 2 * 50);
    await owner.session();
    const before = owner.counter.snapshot();
    expect(await counter.load(0)).toBe(100 + 10 * 50 * 2);
    const after = owner.counter.snapshot();
    expect(after.requests['DynamoDB.BatchGetItem']! - (before.requests['DynamoDB.BatchGetItem'] ?? 0)).toBe(1);
    expect(after.total - before.total).toBe(1);
    expect(await counter.loadAll()).toEqual([1100]);
    // More than one shard took writes.
    const filled = await (
      counter as unknown as { shardValues(store: unknown): Promise<string[]>; counters(): Promise<unknown> }
    ).shardValues(await (counter as unknown as { counters(): Promise<unknown> }).counters());
    expect(filled.filter((value) => value !== '0').length).toBeGreaterThan(1);
    // The range holds for the total: taken back and refused.
    await counter.store(0, 2147483640);
    await expect(counter.add(0, 10)).rejects.toThrow(/got 2147483650/);
    expect(await counter.load(0)).toBe(2147483640);
    expect(() => AwsSharedMemory.create(owner, config, 'i', [1, 2], { shards: 2 })).toThrow(/Only a Value/);
    await Promise.all([owner, ...workers].map((backend) => backend.close()));
  }, 120_000);

  it('a Value with its default lock: get, set and add are one request each; while another machine holds getLock() they wait for its release, and nothing is lost', async () => {
    const config = await provisionForTest('value-own-lock');
    const backend = worker(config);
    const mp = new Context(backend);
    const value = new mp.Value('i', 1);
    await backend.session();
    const requests = async <R>(access: () => Promise<R>): Promise<[R, number]> => {
      const before = backend.counter.snapshot().total;
      const result = await access();
      return [result, backend.counter.snapshot().total - before];
    };
    expect(await requests(() => value.add(2))).toEqual([3, 1]);
    expect(await requests(() => value.get())).toEqual([3, 1]);
    expect(await requests(() => value.set(10))).toEqual([undefined, 1]);
    // The lock's lease lives on the Value's own item, and survives a trip through a handle.
    const lock = value.getLock().engine as AwsLock;
    const other = AwsLock.fromHandle(lock.handle().state, new LockOwner());
    expect(other.key).toEqual(lock.key);
    expect(await other.acquire(Deadline.never)).toBe(true);
    let settled = 0;
    const waiting = [value.add(5), value.set(100), value.get()].map((access) => access.finally(() => settled++));
    // The other machine's read-modify-write, under the lock: no access of this machine lands meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(0);
    const copy = copyOn(value.engine as AwsSharedMemory, backend);
    await copy.store(0, ((await copy.load(0)) as number) * 2);
    await other.release();
    const [added] = await Promise.all(waiting);
    // Each waiting access ran once after the release, in some order: the doubled 20 plus 5 was not lost.
    expect([25, 105]).toContain(added);
    const final = await value.get();
    expect(final === 100 || final === 105).toBe(true);
    // A lock the user gives is not the Value's own: accesses take it (three requests for an add).
    const guarded = new mp.Value('i', 0, { lock: new mp.Lock() });
    expect((await requests(() => guarded.add(1)))[1]).toBe(3);
    await backend.close();
  }, 120_000);

  it("new Value('i', 0, { shards: 8 }) on an aws context is a sharded counter: concurrent adds exact, one read sums the shards", async () => {
    const config = await provisionForTest('sharded-public');
    const backend = worker(config);
    const mp = new Context(backend);
    const counter = new mp.Value('i', 0, { shards: 8 });
    expect(counter.engine.handle().state).toMatchObject({ shards: 8 });
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 25; i++) await counter.add(1);
      }),
    );
    await backend.session();
    const before = backend.counter.snapshot();
    expect(await counter.get()).toBe(200);
    // No lock to take: the read is one BatchGetItem of the shards.
    expect(backend.counter.snapshot().total - before.total).toBe(1);
    await backend.close();
  }, 120_000);
});

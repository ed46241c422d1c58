import { describe, expect, it } from 'vitest';
import { Deadline } from '../../lib/backend/Deadline.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { AwsSemaphore, type AwsSemaphoreState } from '../../lib/backends/aws/AwsSemaphore.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import { SemaphoreLeaseLostError, ValueError } from '../../lib/errors.js';
import { provisionForTest } from './awsHarness.js';

/** A backend of its own: one "worker" with its own session and sockets. */
function worker(config: AwsConfig): AwsBackend {
  return new AwsBackend({ config, counter: new RequestCounter() });
}

/** The same semaphore as another worker gets it from a handle, on `backend`. */
function copyOn(semaphore: AwsSemaphore, backend: AwsBackend): AwsSemaphore {
  const copy = AwsSemaphore.fromHandle(semaphore.handle().state as AwsSemaphoreState);
  (copy as unknown as { awsBackend: AwsBackend }).awsBackend = backend;
  return copy;
}

/** Stops a copy's heartbeat for good, as a holder that crashed or froze. */
function crash(semaphore: AwsSemaphore): void {
  const inside = semaphore as unknown as { stopHeartbeat(): void; startHeartbeat(): void };
  inside.stopHeartbeat();
  inside.startHeartbeat = () => {};
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('aws Semaphore and BoundedSemaphore on the emulators', () => {
  it('uncontended acquire and release are one UpdateItem each; the item is made by the first write', async () => {
    const config = await provisionForTest('sem-requests');
    const backend = worker(config);
    const semaphore = AwsSemaphore.create(backend, config, 2, undefined);
    expect(semaphore.handle()).toMatchObject({ kind: 'aws.semaphore', state: { init: 2, maxValue: null } });
    expect(await semaphore.getValue()).toBe(2);
    const before = backend.counter.snapshot();
    expect(await semaphore.acquire(Deadline.never)).toBe(true);
    await semaphore.release(1);
    const after = backend.counter.snapshot();
    expect(after.total - before.total).toBe(2);
    expect(after.requests['DynamoDB.UpdateItem']! - (before.requests['DynamoDB.UpdateItem'] ?? 0)).toBe(2);
    expect(await semaphore.getValue()).toBe(2);
    expect(await semaphore.tryAcquire()).toBe(true);
    expect(await semaphore.tryAcquire()).toBe(true);
    expect(await semaphore.tryAcquire()).toBe(false);
    expect(await semaphore.acquire(Deadline.after(50))).toBe(false);
    await semaphore.release(2);
    expect(await semaphore.getValue()).toBe(2);
    await backend.close();
  });

  it('Semaphore(3) is never held by four: 20 concurrent acquirers on separate backends count holders', async () => {
    const config = await provisionForTest('sem-three');
    const owner = worker(config);
    const semaphore = AwsSemaphore.create(owner, config, 3, undefined);
    const workers = Array.from({ length: 20 }, () => worker(config));
    let holding = 0;
    let most = 0;
    let entries = 0;
    await Promise.all(
      workers.map(async (backend) => {
        const copy = copyOn(semaphore, backend);
        for (let round = 0; round < 3; round++) {
          expect(await copy.acquire(Deadline.after(60_000))).toBe(true);
          holding++;
          entries++;
          most = Math.max(most, holding);
          await pause(5);
          holding--;
          await copy.release(1);
        }
      }),
    );
    expect(entries).toBe(60);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
    expect(await semaphore.getValue()).toBe(3);
    await Promise.all([owner, ...workers].map((backend) => backend.close()));
  }, 120_000);

  it('BoundedSemaphore: a release past its bound raises ValueError and adds nothing; a copy that holds nothing releases plainly', async () => {
    const config = await provisionForTest('sem-bounded');
    const backend = worker(config);
    const bounded = AwsSemaphore.create(backend, config, 2, 2);
    expect(bounded.maxValue).toBe(2);
    await expect(bounded.release(1)).rejects.toThrow(ValueError);
    await expect(bounded.release(1)).rejects.toThrow(/released too many times.*value is 2 and its bound 2/);
    expect(await bounded.getValue()).toBe(2);
    expect(await bounded.acquire(Deadline.never)).toBe(true);
    expect(await bounded.acquire(Deadline.never)).toBe(true);
    expect(await bounded.getValue()).toBe(0);
    // Released by another copy (another thread or machine): a plain increment, within the bound.
    const other = copyOn(bounded, worker(config));
    await other.release(1);
    await expect(other.release(2)).rejects.toThrow(ValueError);
    expect(await bounded.getValue()).toBe(1);
    await bounded.release(1);
    expect(await bounded.getValue()).toBe(2);
    await expect(bounded.release(1)).rejects.toThrow(ValueError);
    expect(await bounded.getValue()).toBe(2);

    // A plain Semaphore takes any release, up to SEM_VALUE_MAX.
    const plain = AwsSemaphore.create(backend, config, 0, undefined);
    await plain.release(5);
    expect(await plain.getValue()).toBe(5);
    await expect(plain.release(0x7fffffff)).rejects.toThrow(/would exceed 2147483647/);
    expect(await plain.getValue()).toBe(5);
    await backend.close();
  });

  it('a holder whose heartbeat stops (as a crashed or frozen process) loses its permit after the lease; its late release adds nothing', async () => {
    const config = await provisionForTest('sem-crash');
    const holderBackend = worker(config);
    const semaphore = AwsSemaphore.create(holderBackend, config, 1, 1, { leaseMs: 400 });
    expect(await semaphore.acquire(Deadline.never)).toBe(true);
    crash(semaphore);
    const waiterBackend = worker(config);
    const waiter = copyOn(semaphore, waiterBackend);
    expect(await waiter.tryAcquire()).toBe(false);
    expect(await waiter.acquire(Deadline.after(20_000))).toBe(true);
    // Waiting out a 400 ms lease with back-off, not hammering: a handful of requests.
    const requests = waiterBackend.counter.snapshot().total;
    expect(requests).toBeLessThan(40);
    expect(await waiter.getValue()).toBe(0);
    await expect(semaphore.release(1)).rejects.toThrow(SemaphoreLeaseLostError);
    expect(await waiter.getValue()).toBe(0);
    await waiter.release(1);
    expect(await waiter.getValue()).toBe(1);
    await Promise.all([holderBackend.close(), waiterBackend.close()]);
  }, 60_000);

  it('a live holder keeps its permit past many leases: its heartbeat renews the lease', async () => {
    const config = await provisionForTest('sem-alive');
    const holderBackend = worker(config);
    const semaphore = AwsSemaphore.create(holderBackend, config, 1, undefined, { leaseMs: 600 });
    expect(await semaphore.acquire(Deadline.never)).toBe(true);
    const waiter = copyOn(semaphore, worker(config));
    // Four leases' worth of waiting; the holder's heartbeats (every 200 ms) keep changing its record.
    expect(await waiter.acquire(Deadline.after(2_400))).toBe(false);
    expect(semaphore.heartbeatErrors).toBe(0);
    await semaphore.release(1);
    expect(await waiter.acquire(Deadline.after(10_000))).toBe(true);
    await waiter.release(1);
    expect(await semaphore.getValue()).toBe(1);
    await holderBackend.close();
  }, 60_000);
});

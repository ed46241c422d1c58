import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Deadline } from '../../lib/backend/Deadline.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { AwsCondition } from '../../lib/backends/aws/AwsCondition.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { AwsLock } from '../../lib/backends/aws/AwsLock.js';
import { leaseMs } from '../../lib/backends/aws/leaseSettings.js';
import { LockOwner } from '../../lib/backends/aws/awsOwner.js';
import { isConditionalCheckFailed } from '../../lib/backends/aws/tableKeys.js';
import { InvalidArgumentError, LockLostError, RuntimeError, ValueError } from '../../lib/errors.js';
import { provisionForTest } from './awsHarness.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

const backends: AwsBackend[] = [];
afterAll(async () => {
  await Promise.all(backends.map((backend) => backend.close()));
});

/** A backend of its own (a "machine"), with its session open so that counts start clean. */
async function machine(config: AwsConfig): Promise<AwsBackend> {
  const backend = new AwsBackend({ config });
  backends.push(backend);
  await backend.session();
  return backend;
}

/** A lock engine on a machine of its own, with an owner of its own. */
async function lockOn(config: AwsConfig, options: { recursive: boolean; leaseMs?: number; id?: string }) {
  const backend = await machine(config);
  const lock = new AwsLock(backend, config, { ...options, owner: new LockOwner() });
  return { backend, lock };
}

/** Requests the backend's session sent during `work`, by kind. */
async function requestsOf(backend: AwsBackend, work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = backend.counter.snapshot().requests;
  await work();
  const after = backend.counter.snapshot().requests;
  const delta: Record<string, number> = {};
  for (const [kind, count] of Object.entries(after)) if (count !== (before[kind] ?? 0)) delta[kind] = count - (before[kind] ?? 0);
  return delta;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('aws Lock and RLock on the emulators (DynamoDB leases)', () => {
  it('takes and releases an uncontended lock in 2 requests, and its fencing token grows with every acquisition', async () => {
    const config = await provisionForTest('lock-basic');
    const { backend, lock } = await lockOn(config, { recursive: false });
    const requests = await requestsOf(backend, async () => {
      expect(await lock.acquire(Deadline.never)).toBe(true);
      await lock.release();
    });
    expect(requests).toEqual({ 'DynamoDB.UpdateItem': 2 });
    expect(lock.fencingToken).toBe(1);
    expect(await lock.tryAcquire()).toBe(true);
    expect(lock.fencingToken).toBe(2);
    const other = AwsLock.fromHandle(lock.handle().state, new LockOwner());
    expect(other.fencingToken).toBeUndefined();
    expect(await other.tryAcquire()).toBe(false);
    expect(await other.locked()).toBe(true);
    await lock.release();
    expect(await other.locked()).toBe(false);
    expect(await other.tryAcquire()).toBe(true);
    expect(other.fencingToken).toBe(3);
    await other.release();
  });

  it('gives the lock to exactly one of 100 concurrent acquirers at a time, each on a machine of its own', async () => {
    const config = await provisionForTest('lock-hundred');
    const first = await lockOn(config, { recursive: false });
    const others = await Promise.all(Array.from({ length: 99 }, () => lockOn(config, { recursive: false, id: first.lock.id })));
    const engines = [first.lock, ...others.map((other) => other.lock)];
    const startedAt = performance.now();
    let inside = 0;
    let overlaps = 0;
    let entries = 0;
    const tokens: number[] = [];
    await Promise.all(
      engines.map(async (lock) => {
        expect(await lock.acquire(Deadline.never)).toBe(true);
        inside++;
        if (inside !== 1) overlaps++;
        tokens.push(lock.fencingToken!);
        // Long enough for a second holder to be caught inside.
        await pause(Math.random() * 4);
        entries++;
        inside--;
        await lock.release();
      }),
    );
    let reads = 0;
    let writes = 0;
    for (const { backend } of [first, ...others]) {
      const requests = backend.counter.snapshot().requests;
      reads += requests['DynamoDB.GetItem'] ?? 0;
      writes += requests['DynamoDB.UpdateItem'] ?? 0;
    }
    console.log(`100 acquirers: ${Math.round(performance.now() - startedAt)} ms, ${reads} GetItem, ${writes} UpdateItem`);
    expect(overlaps).toBe(0);
    expect(entries).toBe(100);
    // Tokens in the order of entry: strictly increasing, one per acquisition.
    expect(tokens).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  }, 180_000);

  it('lets the next acquirer take a frozen holder’s lock after its lease, fails the stale release, and fences its writes', async () => {
    const config = await provisionForTest('lock-crash');
    const holder = await lockOn(config, { recursive: false, leaseMs: 300 });
    const next = await lockOn(config, { recursive: false, leaseMs: 300, id: holder.lock.id });
    expect(await holder.lock.acquire(Deadline.never)).toBe(true);
    const staleToken = holder.lock.fencingToken!;
    holder.lock.suspendHeartbeat(); // the holder freezes (a paused Lambda)
    const startedAt = performance.now();
    const requests = await requestsOf(next.backend, async () => {
      expect(await next.lock.acquire(Deadline.after(20_000))).toBe(true);
    });
    console.log(`taken over after ${Math.round(performance.now() - startedAt)} ms (lease 300 ms)`, requests);
    // Jittered back-off, not a busy poll: a handful of reads for a 300 ms lease.
    expect(requests['DynamoDB.GetItem'] ?? 0).toBeLessThanOrEqual(20);
    expect(next.lock.fencingToken).toBeGreaterThan(staleToken);
    expect(await holder.lock.isMine()).toBe(false);
    expect(await next.lock.isMine()).toBe(true);

    // A resource guarded by the token, as a user would write it: refuse any token not above the last seen.
    const session = await next.backend.session();
    const guardedWrite = (token: number) =>
      session.clients.dynamodb.send(
        new PutItemCommand({
          TableName: config.table,
          Item: { pk: { S: 'user#resource' }, sk: { S: 'r' }, tok: { N: String(token) } },
          ConditionExpression: 'attribute_not_exists(tok) OR tok < :t',
          ExpressionAttributeValues: { ':t': { N: String(token) } },
        }),
      );
    await guardedWrite(next.lock.fencingToken!);
    const refused = await guardedWrite(staleToken).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isConditionalCheckFailed(refused)).toBe(true);

    const lost = await holder.lock.release().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(lost).toBeInstanceOf(LockLostError);
    expect(lost).toMatchObject({
      code: 'ERR_LOCK_LOST',
      lockId: holder.lock.id,
      token: staleToken,
      currentToken: next.lock.fencingToken,
    });
    expect((lost as Error).message).toContain(`fencing token ${staleToken}`);
    expect(await next.lock.locked()).toBe(true); // the stale release changed nothing
    await next.lock.release();
    expect(await next.lock.locked()).toBe(false);
  }, 60_000);

  it('gives a killed holder process’s lock to the next acquirer once its lease has passed', async () => {
    const config = await provisionForTest('lock-kill');
    const next = await lockOn(config, { recursive: false, leaseMs: 1_000 });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/awsLockHolder.ts', JSON.stringify(next.lock.handle().state)],
      { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const held = await new Promise<{ token: number }>((resolve, reject) => {
      child.stdout.once('data', (line: Buffer) => resolve(JSON.parse(line.toString()) as { token: number }));
      child.once('exit', (code) => reject(new Error(`the holder exited with code ${code} before holding the lock`)));
    });
    // Alive and heartbeating: the lock stays taken past several leases.
    expect(await next.lock.acquire(Deadline.after(2_500))).toBe(false);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await next.lock.acquire(Deadline.after(20_000))).toBe(true);
    expect(next.lock.fencingToken).toBe(held.token + 1);
    await next.lock.release();
  }, 60_000);

  it('does not take over a live holder whose heartbeats land (a short lease, waited past several times)', async () => {
    const config = await provisionForTest('lock-live');
    const holder = await lockOn(config, { recursive: false, leaseMs: 1_000 });
    const waiter = await lockOn(config, { recursive: false, leaseMs: 1_000, id: holder.lock.id });
    expect(await holder.lock.acquire(Deadline.never)).toBe(true);
    const renewals = await requestsOf(holder.backend, async () => {
      expect(await waiter.lock.acquire(Deadline.after(3_500))).toBe(false);
    });
    // Heartbeats every third of the lease: 3.5 s held gives about ten.
    expect(renewals['DynamoDB.UpdateItem'] ?? 0).toBeGreaterThanOrEqual(5);
    await holder.lock.release(); // not lost
    expect(await waiter.lock.tryAcquire()).toBe(true);
    expect(waiter.lock.fencingToken).toBe(holder.lock.fencingToken! + 1);
    await waiter.lock.release();
  }, 30_000);

  it('lets anyone release a Lock (ValueError once it is not locked), as Python does', async () => {
    const config = await provisionForTest('lock-anyone');
    const { lock } = await lockOn(config, { recursive: false });
    const other = AwsLock.fromHandle(lock.handle().state, new LockOwner());
    await expect(lock.release()).rejects.toBeInstanceOf(ValueError);
    expect(await lock.acquire(Deadline.now())).toBe(true);
    expect(await lock.isMine()).toBe(true);
    expect(await other.isMine()).toBe(false);
    await other.release();
    expect(await lock.locked()).toBe(false);
    expect(await lock.isMine()).toBe(false);
    await expect(lock.release()).rejects.toThrow(/not locked \(another party released it\)/);
    await expect(other.release()).rejects.toBeInstanceOf(ValueError);
  });

  it('keeps an RLock’s recursion in memory (0 requests re-entrant) and raises RuntimeError for anyone but its owner', async () => {
    const config = await provisionForTest('lock-rlock');
    const { backend, lock } = await lockOn(config, { recursive: true });
    const stranger = AwsLock.fromHandle(lock.handle().state, new LockOwner());
    expect(lock.handle().kind).toBe('aws.rlock');
    await expect(lock.release()).rejects.toBeInstanceOf(RuntimeError);
    const requests = await requestsOf(backend, async () => {
      expect(await lock.acquire(Deadline.never)).toBe(true);
      expect(await lock.tryAcquire()).toBe(true);
      expect(await lock.acquire(Deadline.now())).toBe(true);
      expect(await lock.isMine()).toBe(true);
      await lock.release();
      await lock.release();
    });
    expect(requests).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await stranger.tryAcquire()).toBe(false);
    expect(await stranger.isMine()).toBe(false);
    await expect(stranger.release()).rejects.toThrow(/not held by this thread and process/);
    expect(await stranger.locked()).toBe(true);
    await lock.release();
    expect(await stranger.locked()).toBe(false);
    await expect(lock.release()).rejects.toBeInstanceOf(RuntimeError);
    // Another copy in the same owner (a handle revived in this thread) shares the hold.
    const owner = new LockOwner();
    const mine = AwsLock.fromHandle(lock.handle().state, owner);
    const alsoMine = AwsLock.fromHandle(lock.handle().state, owner);
    expect(await mine.acquire(Deadline.never)).toBe(true);
    expect(await alsoMine.acquire(Deadline.now())).toBe(true);
    await mine.release();
    expect(await alsoMine.isMine()).toBe(true);
    await alsoMine.release();
    expect(await stranger.locked()).toBe(false);
  });

  it('refuses a bad lease, from the option or FANOUT_LEASE_MS, and a bad handle', () => {
    expect(leaseMs(undefined, {})).toBe(10_000);
    expect(leaseMs(undefined, { FANOUT_LEASE_MS: '2500' })).toBe(2_500);
    expect(() => leaseMs(undefined, { FANOUT_LEASE_MS: 'soon' })).toThrow(
      /the FANOUT_LEASE_MS environment variable must be a whole number of milliseconds ≥ 100; got 'soon'/,
    );
    expect(() => leaseMs(50)).toThrow(InvalidArgumentError);
    expect(() => AwsLock.fromHandle({ id: 1 })).toThrow(/an aws.lock handle must be/);
    expect(() => AwsCondition.fromHandle(null)).toThrow(/an aws.condition handle must be/);
  });
});

describe('aws Condition on the emulators (waiters in the table)', () => {
  /** A condition over a new lock, and a copy of both on another machine (revived from the handle). */
  async function pair(recursive: boolean) {
    const config = await provisionForTest('cond');
    const { lock } = await lockOn(config, { recursive });
    const here = AwsCondition.create(lock);
    const there = AwsCondition.fromHandle(here.handle().state, new LockOwner());
    return { here, there };
  }

  it('wakes a waiter on another machine with notify, restoring every level of its RLock', async () => {
    const { here, there } = await pair(true);
    await expect(here.wait(Deadline.after(100))).rejects.toBeInstanceOf(RuntimeError);
    await expect(there.notify(1)).rejects.toBeInstanceOf(RuntimeError);
    expect(await here.lock.acquire(Deadline.never)).toBe(true);
    expect(await here.lock.acquire(Deadline.never)).toBe(true);
    const waited = here.wait(Deadline.after(20_000));
    // The waiter released both levels: the other machine gets the lock.
    expect(await there.lock.acquire(Deadline.after(20_000))).toBe(true);
    await there.notify(1);
    await there.lock.release();
    expect(await waited).toBe(true);
    expect(await here.lock.isMine()).toBe(true);
    await here.lock.release();
    expect(await there.lock.tryAcquire()).toBe(false); // one level still held
    await here.lock.release();
    await expect(here.lock.release()).rejects.toBeInstanceOf(RuntimeError);
  }, 60_000);

  it('times out (false) when nobody notifies, holding the lock again afterwards; a later notify finds no waiter', async () => {
    const { here, there } = await pair(false);
    expect(await here.lock.acquire(Deadline.never)).toBe(true);
    expect(await here.wait(Deadline.after(300))).toBe(false);
    expect(await here.lock.isMine()).toBe(true);
    await here.lock.release();
    expect(await there.lock.acquire(Deadline.never)).toBe(true);
    await there.notify(1); // nobody waits: nothing to wake, no error
    await there.notify(Infinity);
    await there.lock.release();
  }, 30_000);

  it('wakes one waiter with notify(1) (the first to wait), and all with notifyAll', async () => {
    const { here, there } = await pair(false);
    const waiters = [here];
    for (let i = 0; i < 3; i++) waiters.push(AwsCondition.fromHandle(here.handle().state, new LockOwner()));
    // notify(1) with two waiting: the first registered wakes, the other times out.
    const order: string[] = [];
    expect(await waiters[0]!.lock.acquire(Deadline.never)).toBe(true);
    const a = waiters[0]!
      .wait(Deadline.after(20_000))
      .then((notified) => (order.push(`a:${notified}`), waiters[0]!.lock.release()));
    expect(await waiters[1]!.lock.acquire(Deadline.never)).toBe(true);
    const b = waiters[1]!
      .wait(Deadline.after(2_000))
      .then((notified) => (order.push(`b:${notified}`), waiters[1]!.lock.release()));
    expect(await there.lock.acquire(Deadline.never)).toBe(true);
    await there.notify(1);
    await there.lock.release();
    await Promise.all([a, b]);
    expect(order).toEqual(['a:true', 'b:false']);

    // notifyAll wakes every waiter.
    const woken: Array<Promise<boolean>> = [];
    for (const waiter of waiters.slice(1)) {
      expect(await waiter.lock.acquire(Deadline.never)).toBe(true);
      woken.push(waiter.wait(Deadline.after(20_000)).then(async (notified) => (await waiter.lock.release(), notified)));
    }
    expect(await there.lock.acquire(Deadline.never)).toBe(true);
    await there.notify(Infinity);
    await there.lock.release();
    expect(await Promise.all(woken)).toEqual([true, true, true]);
  }, 60_000);
});

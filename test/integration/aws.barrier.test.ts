import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deadline } from '../../lib/backend/Deadline.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { AwsBarrier } from '../../lib/backends/aws/AwsBarrier.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { BrokenBarrierError, ProtocolError } from '../../lib/errors.js';
import { provisionForTest, waitFor } from './awsHarness.js';

const LONG = 30_000;

describe('aws Barrier on the emulators', () => {
  let config: AwsConfig;
  // Five connections to the same resources, as five machines have.
  let machines: AwsBackend[];

  beforeAll(async () => {
    config = await provisionForTest('barrier');
    machines = Array.from({ length: 5 }, () => new AwsBackend({ config }));
    await Promise.all(machines.map((machine) => machine.session()));
  });

  afterAll(async () => {
    await Promise.all(machines.map((machine) => machine.close()));
  });

  /** A barrier, as each of `count` machines sees it (index 0 made it; the others got its handle). */
  function shared(parties: number, count = parties): AwsBarrier[] {
    const barrier = AwsBarrier.create(machines[0]!, parties, config);
    const state = barrier.handle().state;
    return [barrier, ...machines.slice(1, count).map((machine) => AwsBarrier.fromHandle(state, machine))];
  }

  const until = () => Deadline.after(LONG);

  it('releases 5 parties over several generations: arrival indexes 0..4 each time, the action once per generation and before any party leaves', async () => {
    const copies = shared(5);
    let actions = 0;
    let leftThisRound = 0;
    const leftBeforeAction: number[] = [];
    const action = () => {
      actions++;
      leftBeforeAction.push(leftThisRound);
    };
    for (let generation = 0; generation < 4; generation++) {
      leftThisRound = 0;
      const indexes = await Promise.all(
        copies.map(async (copy) => {
          const index = await copy.wait(until(), action);
          leftThisRound++;
          return index;
        }),
      );
      expect([...indexes].sort()).toEqual([0, 1, 2, 3, 4]);
      expect(actions).toBe(generation + 1);
    }
    expect(leftBeforeAction).toEqual([0, 0, 0, 0]);
    expect(await copies[3]!.nWaiting()).toBe(0);
    expect(await copies[3]!.broken()).toBe(false);
  });

  it('counts the waiting parties (nWaiting), and none once released', async () => {
    const copies = shared(3);
    expect(await copies[2]!.nWaiting()).toBe(0);
    const first = copies[0]!.wait(until(), undefined);
    await waitFor(async () => (await copies[2]!.nWaiting()) === 1, 10_000, 'one party waiting');
    const second = copies[1]!.wait(until(), undefined);
    await waitFor(async () => (await copies[2]!.nWaiting()) === 2, 10_000, 'two parties waiting');
    const third = await copies[2]!.wait(until(), undefined);
    expect([await first, await second, third]).toEqual([0, 1, 2]);
    expect(await copies[0]!.nWaiting()).toBe(0);
  });

  it('breaks when the action throws: the last party gets the error, the others BrokenBarrierError, later waits too until reset', async () => {
    const copies = shared(2);
    const failure = new Error('action failed');
    const action = () => {
      throw failure;
    };
    const first = expect(copies[0]!.wait(until(), action)).rejects.toBeInstanceOf(BrokenBarrierError);
    await waitFor(async () => (await copies[1]!.nWaiting()) === 1, 10_000, 'one party waiting');
    await expect(copies[1]!.wait(until(), action)).rejects.toBe(failure);
    await first;
    expect(await copies[0]!.broken()).toBe(true);
    expect(await copies[0]!.nWaiting()).toBe(0);
    await expect(copies[0]!.wait(until(), undefined)).rejects.toBeInstanceOf(BrokenBarrierError);
    await copies[1]!.reset();
    expect(await copies[0]!.broken()).toBe(false);
    expect((await Promise.all(copies.map((copy) => copy.wait(until(), undefined)))).sort()).toEqual([0, 1]);
  });

  it('breaks on abort(): the waiting party and later ones get BrokenBarrierError until reset()', async () => {
    const copies = shared(3);
    const waiting = expect(copies[0]!.wait(until(), undefined)).rejects.toBeInstanceOf(BrokenBarrierError);
    await waitFor(async () => (await copies[1]!.nWaiting()) === 1, 10_000, 'one party waiting');
    await copies[2]!.abort();
    await waiting;
    expect(await copies[1]!.broken()).toBe(true);
    await expect(copies[1]!.wait(until(), undefined)).rejects.toBeInstanceOf(BrokenBarrierError);
    await copies[1]!.reset();
    expect(await copies[2]!.broken()).toBe(false);
    expect(await copies[2]!.nWaiting()).toBe(0);
    expect((await Promise.all(copies.map((copy) => copy.wait(until(), undefined)))).sort()).toEqual([0, 1, 2]);
  });

  it('reset() breaks the waiting parties and empties the barrier, which then works (not broken)', async () => {
    const copies = shared(3);
    // Each expectation is attached at once: a wait may reject while the test awaits something else.
    const broken = [0, 1].map((i) => expect(copies[i]!.wait(until(), undefined)).rejects.toBeInstanceOf(BrokenBarrierError));
    await waitFor(async () => (await copies[2]!.nWaiting()) === 2, 10_000, 'two parties waiting');
    await copies[2]!.reset();
    await Promise.all(broken);
    expect(await copies[2]!.broken()).toBe(false);
    expect(await copies[2]!.nWaiting()).toBe(0);
    expect((await Promise.all(copies.map((copy) => copy.wait(until(), undefined)))).sort()).toEqual([0, 1, 2]);
  });

  it('tells a reset waiter it was broken even when a whole new round was released before it looked', async () => {
    const copies = shared(2, 4);
    const broken = expect(copies[0]!.wait(until(), undefined)).rejects.toBeInstanceOf(BrokenBarrierError);
    await waitFor(async () => (await copies[1]!.nWaiting()) === 1, 10_000, 'one party waiting');
    await copies[1]!.reset();
    // Two other parties complete the next round at once (the waiter polls with back-off).
    expect((await Promise.all([copies[2]!.wait(until(), undefined), copies[3]!.wait(until(), undefined)])).sort()).toEqual([
      0, 1,
    ]);
    await broken;
  });

  it('a wait that times out breaks the barrier for every waiter', async () => {
    const copies = shared(3);
    const patient = expect(copies[0]!.wait(Deadline.never, undefined)).rejects.toBeInstanceOf(BrokenBarrierError);
    await waitFor(async () => (await copies[2]!.nWaiting()) === 1, 10_000, 'one party waiting');
    await expect(copies[1]!.wait(Deadline.after(300), undefined)).rejects.toThrow(/timed out/);
    await patient;
    expect(await copies[2]!.broken()).toBe(true);
    await expect(copies[2]!.wait(until(), undefined)).rejects.toBeInstanceOf(BrokenBarrierError);
  });

  it('a party arriving while the last one runs the action joins the next round', async () => {
    const copies = shared(2, 4);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let actions = 0;
    const action = async () => {
      actions++;
      if (actions === 1) await gate;
    };
    const first = copies[0]!.wait(until(), action);
    await waitFor(async () => (await copies[1]!.nWaiting()) === 1, 10_000, 'one party waiting');
    const last = copies[1]!.wait(until(), action);
    // The round is full (its action waits at the gate): a new party must wait for the next round.
    await waitFor(async () => (await copies[3]!.nWaiting()) === 2, 10_000, 'the round to be full');
    const reads = () => machines[2]!.counter.snapshot().requests['DynamoDB.GetItem'] ?? 0;
    const readsBefore = reads();
    const early = copies[2]!.wait(until(), action);
    // Its arrival is refused (the round is full) and it reads the item to learn why.
    await waitFor(() => reads() > readsBefore, 10_000, 'the refused arrival');
    open();
    expect([await first, await last]).toEqual([0, 1]);
    const next = copies[3]!.wait(until(), action);
    // Both are in the second round; which arrives first is a race (the early one retries after a back-off).
    expect([await early, await next].sort()).toEqual([0, 1]);
    expect(actions).toBe(2);
  });

  it('costs per 2-party round: one conditional UpdateItem per arrival, one to release, and the waiter’s reads', async () => {
    const copies = shared(2);
    const snapshot = (machine: AwsBackend) => ({ ...machine.counter.snapshot().requests });
    const before = [snapshot(machines[0]!), snapshot(machines[1]!)];
    const first = copies[0]!.wait(until(), undefined);
    await waitFor(async () => (await copies[1]!.nWaiting()) === 1, 10_000, 'one party waiting');
    const afterWaiting = snapshot(machines[1]!);
    await copies[1]!.wait(until(), undefined);
    await first;
    const delta = (machine: number, key: string, since: Record<string, number>) =>
      (snapshot(machines[machine]!)[key] ?? 0) - (since[key] ?? 0);
    // The first party: its arrival, then reads until released.
    expect(delta(0, 'DynamoDB.UpdateItem', before[0]!)).toBe(1);
    expect(delta(0, 'DynamoDB.GetItem', before[0]!)).toBeGreaterThanOrEqual(1);
    // The last party: its arrival and the release, no read.
    expect(delta(1, 'DynamoDB.UpdateItem', afterWaiting)).toBe(2);
    expect(delta(1, 'DynamoDB.GetItem', afterWaiting)).toBe(0);
  });

  it('costs one request per abort, nWaiting and broken; a read and a write per reset; a refused write and a read per wait on a broken barrier', async () => {
    const [barrier] = shared(2, 1);
    const machine = machines[0]!;
    const made = async (work: () => Promise<unknown>) => {
      const before = machine.counter.snapshot().requests;
      await work().catch((error: unknown) => {
        if (!(error instanceof BrokenBarrierError)) throw error;
      });
      const after = machine.counter.snapshot().requests;
      return Object.fromEntries(
        Object.entries(after)
          .map(([kind, count]) => [kind, count - (before[kind] ?? 0)] as const)
          .filter(([, count]) => count > 0),
      );
    };
    expect(await made(() => barrier!.reset())).toEqual({ 'DynamoDB.GetItem': 1 });
    expect(await made(() => barrier!.abort())).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await made(() => barrier!.nWaiting())).toEqual({ 'DynamoDB.GetItem': 1 });
    expect(await made(() => barrier!.broken())).toEqual({ 'DynamoDB.GetItem': 1 });
    expect(await made(() => barrier!.wait(until(), undefined))).toEqual({ 'DynamoDB.UpdateItem': 1, 'DynamoDB.GetItem': 1 });
    expect(await made(() => barrier!.reset())).toEqual({ 'DynamoDB.UpdateItem': 1, 'DynamoDB.GetItem': 1 });
    expect(await barrier!.broken()).toBe(false);
  });

  it('travels as an aws.barrier handle with its id, resources and parties, and refuses a handle without them', () => {
    const [barrier] = shared(4, 1);
    expect(barrier!.handle()).toEqual({ kind: 'aws.barrier', state: { id: barrier!.id, config, parties: 4 } });
    expect(() => AwsBarrier.fromHandle({ id: 'x', config })).toThrow(ProtocolError);
    expect(() => AwsBarrier.fromHandle({ parties: 2 })).toThrow(ProtocolError);
  });
});

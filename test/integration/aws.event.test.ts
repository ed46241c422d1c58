import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Deadline } from '../../lib/backend/Deadline.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { AwsEvent } from '../../lib/backends/aws/AwsEvent.js';
import { ProtocolError } from '../../lib/errors.js';
import { provisionForTest, waitFor } from './awsHarness.js';

/** DynamoDB requests a backend made while `work` ran, by command. */
async function requestsOf(backend: AwsBackend, work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = backend.counter.snapshot().requests;
  await work();
  const after = backend.counter.snapshot().requests;
  const made: Record<string, number> = {};
  for (const [kind, count] of Object.entries(after)) if (count !== (before[kind] ?? 0)) made[kind] = count - (before[kind] ?? 0);
  return made;
}

describe('aws Event on the emulators', () => {
  let config: AwsConfig;
  // Two connections to the same resources, as two machines have.
  let here: AwsBackend;
  let there: AwsBackend;

  beforeAll(async () => {
    config = await provisionForTest('event');
    here = new AwsBackend({ config });
    there = new AwsBackend({ config });
    await Promise.all([here.session(), there.session()]);
  });

  afterAll(async () => {
    await here.close();
    await there.close();
  });

  /** An event made here, and the same event as it arrives there by its handle. */
  function pair(): { event: AwsEvent; remote: AwsEvent } {
    const event = AwsEvent.create(here, config);
    return { event, remote: AwsEvent.fromHandle(event.handle().state, there) };
  }

  it('wakes a waiter on another connection when set, and clears', async () => {
    const { event, remote } = pair();
    expect(await remote.isSet()).toBe(false);
    const waiting = remote.wait(Deadline.after(20_000));
    await event.set();
    expect(await waiting).toBe(true);
    expect(await remote.isSet()).toBe(true);
    expect(await remote.wait(Deadline.now())).toBe(true);
    await remote.clear();
    expect(await event.isSet()).toBe(false);
    expect(await event.wait(Deadline.now())).toBe(false);
  });

  it('returns false when the wait times out, polling with back-off (a bounded number of reads)', async () => {
    const { remote } = pair();
    const made = await requestsOf(there, async () => expect(await remote.wait(Deadline.after(1500))).toBe(false));
    // Back-off from 20 ms doubling to 1 s: about 8 reads in 1.5 s, whatever the machine's speed.
    expect(made['DynamoDB.GetItem']).toBeGreaterThanOrEqual(2);
    expect(made['DynamoDB.GetItem']).toBeLessThanOrEqual(10);
    expect(Object.keys(made)).toEqual(['DynamoDB.GetItem']);
  });

  it('wakes a waiter whose set was followed at once by a clear (Python: a woken waiter returns true)', async () => {
    const { event, remote } = pair();
    const reads = () => there.counter.snapshot().requests['DynamoDB.GetItem'] ?? 0;
    const before = reads();
    const waiting = remote.wait(Deadline.after(20_000));
    // The waiter has read the cleared flag before the set.
    await waitFor(() => reads() > before, 10_000, 'the waiter to read the flag');
    await event.set();
    await event.clear();
    expect(await waiting).toBe(true);
    expect(await remote.isSet()).toBe(false);
  });

  it('costs one request per set, clear and isSet, and one per wait on a set event', async () => {
    const { event } = pair();
    expect(await requestsOf(here, () => event.set())).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await requestsOf(here, () => event.isSet())).toEqual({ 'DynamoDB.GetItem': 1 });
    expect(await requestsOf(here, () => event.wait(Deadline.never))).toEqual({ 'DynamoDB.GetItem': 1 });
    expect(await requestsOf(here, () => event.clear())).toEqual({ 'DynamoDB.UpdateItem': 1 });
    expect(await requestsOf(here, () => event.wait(Deadline.now()))).toEqual({ 'DynamoDB.GetItem': 1 });
  });

  it('costs no request to create, and a new event is cleared', async () => {
    expect(await requestsOf(here, async () => AwsEvent.create(here, config))).toEqual({});
    expect(await AwsEvent.create(here, config).isSet()).toBe(false);
  });

  it('travels as an aws.event handle with its id and resources, and refuses a handle without them', async () => {
    const { event } = pair();
    const handle = event.handle();
    expect(handle.kind).toBe('aws.event');
    expect(handle.state).toEqual({ id: event.id, config });
    // A handle revived without a backend binds to this thread's backend for the resources.
    const revived = AwsEvent.fromHandle(handle.state);
    await event.set();
    expect(await revived.isSet()).toBe(true);
    await AwsBackend.forConfig(config).close();
    expect(() => AwsEvent.fromHandle({ id: 'x' })).toThrow(ProtocolError);
    expect(() => AwsEvent.fromHandle(null)).toThrow(ProtocolError);
  });
});

import { describe, expect, it } from 'vitest';
import { Deadline } from '../../lib/backend/Deadline.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { AwsChannelEngine, type AwsChannelState } from '../../lib/backends/aws/AwsChannelEngine.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import { BrokenPipeError } from '../../lib/errors.js';
import { provisionForTest } from './awsHarness.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (value: unknown) => encoder.encode(JSON.stringify(value));
const parse = (received: unknown) =>
  typeof received === 'object' && received !== null && 'item' in received
    ? (JSON.parse(decoder.decode((received as { item: Uint8Array }).item)) as unknown)
    : received;

function machine(config: AwsConfig): { backend: AwsBackend; counter: RequestCounter } {
  const counter = new RequestCounter();
  return { backend: new AwsBackend({ config, counter }), counter };
}

/** The same channel re-bound from its handle on another machine. */
async function elsewhere(channel: AwsChannelEngine, backend: AwsBackend): Promise<AwsChannelEngine> {
  await new Promise((resolve) => setImmediate(resolve));
  const { kind, state } = channel.handle();
  expect(kind).toBe('aws.channel');
  expect((state as unknown as AwsChannelState).config).not.toBeNull();
  return AwsChannelEngine.fromHandle(JSON.parse(JSON.stringify(state)) as AwsChannelState, backend);
}

describe('aws channel engine (one direction of a Pipe) on the emulators', () => {
  it('delivers in order across machines, then EOF once the sender closed and nothing is left', async () => {
    const config = await provisionForTest('pipe-order');
    const sending = machine(config);
    const sender = AwsChannelEngine.create(sending.backend);
    const receiving = machine(config);
    const receiver = await elsewhere(sender, receiving.backend);
    expect(await receiver.poll(Deadline.now())).toBe(false);
    expect(await receiver.recv(Deadline.after(100))).toBe('timeout');
    for (let i = 0; i < 50; i++) await sender.send(bytes(i));
    expect(await receiver.poll(Deadline.now())).toBe(true);
    sender.closeSender();
    await sender.closed();
    const got: unknown[] = [];
    for (;;) {
      const received = await receiver.recv(Deadline.after(5000));
      if (received === 'eof') break;
      got.push(parse(received));
    }
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // EOF again, and poll is ready (there is an end to read), as with an OS pipe.
    expect(await receiver.recv(Deadline.now())).toBe('eof');
    expect(await receiver.poll(Deadline.now())).toBe(true);
    const requests = sending.counter.snapshot().total + receiving.counter.snapshot().total;
    console.log(`pipe: ${(requests / 50).toFixed(2)} requests per send+recv (50 items, close and EOF included)`, {
      sender: sending.counter.snapshot().requests,
      receiver: receiving.counter.snapshot().requests,
    });
  }, 60_000);

  it('wakes a blocked recv when an item is sent, and reports EOF to a blocked recv when the sender closes', async () => {
    const config = await provisionForTest('pipe-wake');
    const sender = AwsChannelEngine.create(machine(config).backend);
    const receiver = await elsewhere(sender, machine(config).backend);
    const waiting = receiver.recv(Deadline.never);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sender.send(bytes('hello'));
    expect(parse(await waiting)).toBe('hello');
    const polling = receiver.poll(Deadline.never);
    const ending = receiver.recv(Deadline.never);
    await new Promise((resolve) => setTimeout(resolve, 200));
    sender.closeSender();
    expect(await polling).toBe(true);
    expect(await ending).toBe('eof');
  }, 60_000);

  it('rejects a send with BrokenPipeError once the receiver closed, on its own machine and on another', async () => {
    const config = await provisionForTest('pipe-broken');
    const channel = AwsChannelEngine.create(machine(config).backend);
    const remoteSender = await elsewhere(channel, machine(config).backend);
    await remoteSender.send(bytes('before'));
    channel.closeReceiver();
    // The same engine object (both ends of a Pipe in one thread) knows at once.
    await expect(channel.send(bytes('after'))).rejects.toBeInstanceOf(BrokenPipeError);
    // Another machine's sender sees the reader's flag once it has landed.
    let refused: unknown;
    for (let attempt = 0; attempt < 50 && !refused; attempt++) {
      refused = await remoteSender.send(bytes(attempt)).then(
        () => undefined,
        (error: unknown) => error,
      );
    }
    expect(refused).toBeInstanceOf(BrokenPipeError);
  }, 60_000);

  it('keeps the two directions of a duplex pipe apart', async () => {
    const config = await provisionForTest('pipe-duplex');
    const left = machine(config);
    const right = machine(config);
    const forward = AwsChannelEngine.create(left.backend);
    const backward = AwsChannelEngine.create(left.backend);
    const forwardThere = await elsewhere(forward, right.backend);
    const backwardThere = await elsewhere(backward, right.backend);
    await forward.send(bytes('ping'));
    expect(parse(await forwardThere.recv(Deadline.never))).toBe('ping');
    await backwardThere.send(bytes('pong'));
    expect(parse(await backward.recv(Deadline.never))).toBe('pong');
    expect(await forward.poll(Deadline.now())).toBe(false);
    expect(await backwardThere.poll(Deadline.now())).toBe(false);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import {
  BackendMismatchError,
  Context,
  InvalidArgumentError,
  JoinableQueue,
  NotSupportedError,
  Pipe,
  Queue,
  SimpleQueue,
  type Backend,
} from 'fanout';
import { ValueDecoder } from '../../../lib/codec/ValueDecoder.js';
import { ValueEncoder } from '../../../lib/codec/ValueEncoder.js';
import { reviveHandle } from '../../../lib/runtime/handles.js';
import { encodingFor } from '../../../lib/api/handleTarget.js';
import { noop, putItems } from '../../fixtures/processTasks.js';

/** Sends a value through the codec as a worker would receive it (handles re-bound from their attachments). */
function crossBoundary<T>(value: T): T {
  const encoder = new ValueEncoder();
  encoder.write(value, 'the value');
  const { attachments } = encoder.takeAttachments();
  return new ValueDecoder(encoder.finish(), attachments, reviveHandle).read() as T;
}

describe('Queue', () => {
  it('checks maxsize and the options of put and get', async () => {
    expect(() => new Queue(1.5)).toThrow(InvalidArgumentError);
    expect(() => new Queue('3' as never)).toThrow(/maxsize must be a whole number/);
    expect(new Queue(-1).maxsize).toBe(0); // as Python: 0 or less is no limit
    const q = new Queue();
    await expect(q.put(1, { wait: true } as never)).rejects.toThrow(/queue.put\(item, options\).wait/);
    await expect(q.put(1, { timeout: Number.NaN })).rejects.toThrow(/timeout must be a finite number of milliseconds/);
    await q.put(1);
    await expect(q.get({ timeout: -5 })).resolves.toBe(1); // a negative timeout counts as zero, as in Python
    await expect(q.get({ block: 'no' as never })).rejects.toThrow(/block must be true or false/);
  });

  it('is FIFO in one thread, with qsize, empty and full', async () => {
    const q = new Queue<number>(3);
    expect([await q.empty(), await q.full(), await q.qsize()]).toEqual([true, false, 0]);
    for (const x of [1, 2, 3]) await q.put(x);
    expect([await q.empty(), await q.full(), await q.qsize()]).toEqual([false, true, 3]);
    expect([await q.get(), await q.get(), await q.get()]).toEqual([1, 2, 3]);
  });

  it('carries every kind of value the codec carries', async () => {
    const q = new Queue();
    const value = { n: 1.5, big: 10n, list: [1, 'two', null, undefined], map: new Map([[1, { a: 2 }]]), date: new Date(0) };
    await q.put(value);
    expect(await q.get()).toEqual(value);
  });

  it('a get waiting on an empty queue wakes when an item is put', async () => {
    const q = new Queue<string>();
    const waiting = q.get();
    setTimeout(() => void q.put('late'), 20);
    expect(await waiting).toBe('late');
  });

  it('crosses a boundary as a handle to the same queue, keeping its class and maxsize', async () => {
    const q = new Queue<number>(4);
    const j = new JoinableQueue<number>();
    const s = new SimpleQueue<number>();
    const [q2, j2, s2] = crossBoundary([q, j, s]);
    expect(q2).toBeInstanceOf(Queue);
    expect(q2).not.toBe(q);
    expect(q2.maxsize).toBe(4);
    expect(j2).toBeInstanceOf(JoinableQueue);
    expect(s2).toBeInstanceOf(SimpleQueue);
    await q2.put(7);
    expect(await q.get()).toBe(7);
    await j.put(1);
    await j2.get();
    await j2.taskDone();
    await j.join();
    await s.put(9);
    expect(await s2.get()).toBe(9);
  });

  it('refuses to go to work of another backend (BackendMismatchError)', () => {
    const encoder = new ValueEncoder();
    expect(() => encodingFor('aws', () => encoder.write([new Queue()], 'the arguments'))).toThrow(BackendMismatchError);
    expect(() => encodingFor('aws', () => encoder.write(Pipe()[0], 'the arguments'))).toThrow(
      /A Connection of the 'local' backend cannot be sent to work on the 'aws' backend/,
    );
    expect(() => encodingFor('local', () => encoder.write(new SimpleQueue(), 'the arguments'))).not.toThrow();
  });

  it('a backend without queues or pipes refuses them clearly (a minimal Backend object, as a backend that lacks them)', () => {
    const bare: Backend = {
      name: 'aws',
      defaultProcesses: () => 1,
      createPoolEngine: () => {
        throw new Error('not used');
      },
    };
    const mp = new Context(bare);
    expect(() => new mp.Queue()).toThrow(NotSupportedError);
    expect(() => new mp.SimpleQueue()).toThrow(/The 'aws' backend has no queues/);
    expect(() => mp.Pipe()).toThrow(/has no pipes/);
    expect(() => new mp.Process({ target: noop }).start()).toThrow(/The 'aws' backend cannot start processes/);
  });

  it('a local queue given to a Process of another backend fails at start, before anything runs (a minimal Backend object)', () => {
    let started = false;
    const other: Backend = {
      name: 'aws',
      defaultProcesses: () => 1,
      createPoolEngine: () => {
        throw new Error('not used');
      },
      startProcess: () => {
        started = true;
        throw new Error('must not be reached');
      },
    };
    const p = new new Context(other).Process({ target: putItems, args: [new Queue(), [1]] });
    expect(() => p.start()).toThrow(BackendMismatchError);
    expect(() => p.start()).toThrow(/A Queue of the 'local' backend cannot be sent to work on the 'aws' backend/);
    expect(started).toBe(false);
  });
});

describe('JoinableQueue', () => {
  it('join waits for the last taskDone', async () => {
    const q = new JoinableQueue<number>();
    await q.put(1);
    await q.put(2);
    let joined = false;
    const joining = q.join().then(() => (joined = true));
    await q.get();
    await q.taskDone();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(joined).toBe(false);
    await q.get();
    await q.taskDone();
    await joining;
    expect(joined).toBe(true);
  });
});

describe('SimpleQueue', () => {
  it('close() stops this object', async () => {
    const q = new SimpleQueue();
    q.close();
    await expect(q.put(1)).rejects.toThrow(/closed/);
    await expect(q.empty()).rejects.toThrow(/closed/);
  });
});

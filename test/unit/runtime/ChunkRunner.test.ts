import { describe, expect, it } from 'vitest';
import { ChunkRunner } from '../../../lib/runtime/ChunkRunner.js';
import { TaskRegistry } from '../../../lib/runtime/TaskRegistry.js';
import { ChunkEncoder } from '../../../lib/api/ChunkEncoder.js';
import { decodeFrame, type ChunkFailedMessage, type ResultsMessage, type RunMessage } from '../../../lib/codec/protocol.js';
import { ValueDecoder } from '../../../lib/codec/ValueDecoder.js';

function setup(tasks: Record<string, (...args: never[]) => unknown>) {
  const registry = new TaskRegistry();
  for (const [name, fn] of Object.entries(tasks)) registry.register({ name, fn, module: 'file:///fake.ts' });
  const frames: Array<{ message: ResultsMessage | ChunkFailedMessage; values: unknown[] }> = [];
  const signals = new Int32Array(3);
  const runner = new ChunkRunner(
    (frame) => {
      const { message, payload } = decodeFrame(frame);
      const values = message.type === 'results' ? new ValueDecoder(payload).readMany(message.count) : [];
      frames.push({ message: message as ResultsMessage | ChunkFailedMessage, values });
    },
    undefined,
    registry,
    signals,
  );
  return { runner, frames, signals };
}

function chunk(task: string, items: unknown[], spread = false): [RunMessage, Uint8Array] {
  const encoder = new ChunkEncoder(spread);
  items.forEach((item, i) => encoder.add(item, `item ${i}`));
  return [{ type: 'run', chunk: 7, task: { name: task }, count: items.length, spread }, encoder.take().payload];
}

describe('ChunkRunner', () => {
  it('runs a chunk of synchronous calls without a promise and reports one final part', () => {
    const { runner, frames, signals } = setup({ double: (x: number) => x * 2 });
    const returned = runner.run(...chunk('double', [1, 2, 3]));
    expect(returned).toBeUndefined();
    expect(frames).toHaveLength(1);
    expect(frames[0]!.message).toMatchObject({ type: 'results', chunk: 7, from: 0, count: 3, final: true, errors: [] });
    expect(frames[0]!.values).toEqual([2, 4, 6]);
    expect([signals[0], signals[1]]).toEqual([7, 2]);
  });

  it('spreads argument arrays, awaits async tasks and keeps each failure to its item', async () => {
    const { runner, frames } = setup({
      divide: async (a: number, b: number) => {
        await Promise.resolve();
        if (b === 0) throw new RangeError('division by zero');
        return a / b;
      },
    });
    await runner.run(
      ...chunk(
        'divide',
        [
          [6, 3],
          [1, 0],
          [8, 2],
        ],
        true,
      ),
    );
    const results = frames.filter((f) => f.message.type === 'results');
    const values = results.flatMap((f) => f.values);
    expect(values).toEqual([2, undefined, 4]);
    const errors = results.flatMap((f) => (f.message as ResultsMessage).errors);
    expect(errors).toHaveLength(1);
    expect(errors[0]![0]).toBe(1);
    expect(errors[0]![1]).toMatchObject({ remote: { name: 'RangeError', message: 'division by zero' } });
    expect((results.at(-1)!.message as ResultsMessage).final).toBe(true);
  });

  it('sends partial results while a long chunk runs', async () => {
    const { runner, frames } = setup({
      slow: async (x: number) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        return x;
      },
    });
    await runner.run(...chunk('slow', [1, 2, 3, 4, 5]));
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.flatMap((f) => f.values)).toEqual([1, 2, 3, 4, 5]);
    const parts = frames.map((f) => f.message as ResultsMessage);
    parts.forEach((part, i) => i > 0 && expect(part.from).toBe(parts[i - 1]!.from + parts[i - 1]!.count));
  });

  it('reports a result that cannot be sent as a serialization failure of that item', () => {
    const { runner, frames } = setup({ makeFn: () => () => 1 });
    runner.run(...chunk('makeFn', [0]));
    const [, error] = (frames[0]!.message as ResultsMessage).errors[0]!;
    expect(error).toMatchObject({ failure: { code: 'ERR_SERIALIZATION' } });
    expect('failure' in error && error.failure.message).toContain("the result of task 'makeFn' for item 0");
  });

  it('fails the whole chunk when the task is unknown, naming the known ones', async () => {
    const { runner, frames } = setup({ known: () => 1 });
    await runner.run(...chunk('missing', [1]));
    expect(frames[0]!.message).toMatchObject({
      type: 'chunkFailed',
      chunk: 7,
      error: { code: 'ERR_UNKNOWN_TASK', knownTasks: ['known'] },
    });
  });
});

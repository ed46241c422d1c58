import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { BrokenQueueError } from 'fanout';
import { lockWord } from '../../../../lib/backends/local/futex.js';

describe('lockWord / unlockWord', () => {
  it('keeps a shared counter exact under contention from four threads', async () => {
    const shared = new Int32Array(new SharedArrayBuffer(12));
    const script = new URL('../../../fixtures/futexCounter.mjs', import.meta.url);
    const workers = Array.from(
      { length: 4 },
      () => new Worker(script, { workerData: { buffer: shared.buffer, times: 100_000, threads: 4 } }),
    );
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
    expect(shared[1]).toBe(400_000);
    expect(shared[0]).toBe(0);
  });

  it('gives up with BrokenQueueError when the word stays held (its holder was stopped)', () => {
    const control = new Int32Array(new SharedArrayBuffer(8));
    control[0] = 1; // held by a thread that will never release it
    expect(() => lockWord(control, 0, 300)).toThrow(BrokenQueueError);
    expect(() => lockWord(control, 0, 300)).toThrow(/stopped with terminate\(\) or kill\(\)/);
  });
});

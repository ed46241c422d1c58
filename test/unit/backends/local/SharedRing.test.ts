import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { Flag, PutResult, SharedRing, Word } from '../../../../lib/backends/local/SharedRing.js';

const bytes = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
/** Byte equality (vitest's deep equality is slow on large typed arrays). */
const same = (actual: Uint8Array | undefined, expected: Uint8Array | undefined) =>
  actual !== undefined && expected !== undefined && Buffer.from(actual).equals(Buffer.from(expected));

describe('SharedRing', () => {
  it('returns records first in, first out, byte for byte', () => {
    const ring = SharedRing.create();
    expect(ring.tryGet()).toBeUndefined();
    const items = [bytes(0, 1), bytes(1, 2), bytes(100, 3), bytes(5000, 4)];
    for (const item of items) expect(ring.tryPut(item, 0, false)).toBe(PutResult.Done);
    expect(ring.count).toBe(4);
    for (const item of items) expect(same(ring.tryGet(), item)).toBe(true);
    expect(ring.tryGet()).toBeUndefined();
  });

  it('wraps records (and their headers) around the end of the buffer, and grows while wrapped', () => {
    const ring = SharedRing.create();
    const capacity = Atomics.load(ring.control, Word.Capacity);
    // Against a model queue, with sizes chosen to land headers and bodies across the end.
    const model: Uint8Array[] = [];
    let seed = 0;
    let grewWhileWrapped = false;
    for (let round = 0; round < 400; round++) {
      const size = [1, 3, 7, 1021, 4093, 20011][round % 6]!;
      for (let i = 0; i < 3; i++) {
        const item = bytes(size + i, seed++);
        const wrapped = Atomics.load(ring.control, Word.Tail) < Atomics.load(ring.control, Word.Head);
        const before = Atomics.load(ring.control, Word.Capacity);
        expect(ring.tryPut(item, 0, false)).toBe(PutResult.Done);
        if (wrapped && Atomics.load(ring.control, Word.Capacity) > before) grewWhileWrapped = true;
        model.push(item);
      }
      for (let i = 0; i < 2; i++) expect(same(ring.tryGet(), model.shift())).toBe(true);
    }
    while (model.length > 0) expect(same(ring.tryGet(), model.shift())).toBe(true);
    expect(ring.count).toBe(0);
    expect(Atomics.load(ring.control, Word.Capacity)).toBeGreaterThan(capacity);
    expect(grewWhileWrapped).toBe(true);
  });

  it('refuses a record beyond maxsize items, and counts unfinished tasks when asked', () => {
    const ring = SharedRing.create();
    expect(ring.tryPut(bytes(1, 0), 2, true)).toBe(PutResult.Done);
    expect(ring.tryPut(bytes(1, 1), 2, true)).toBe(PutResult.Done);
    expect(ring.tryPut(bytes(1, 2), 2, true)).toBe(PutResult.NoRoom);
    expect(Atomics.load(ring.control, Word.Unfinished)).toBe(2);
    expect(ring.taskDone()).toBe(true);
    expect(ring.taskDone()).toBe(true);
    expect(ring.taskDone()).toBe(false);
    expect(Atomics.load(ring.control, Word.ZeroSeq)).toBe(1);
  });

  it('is the same ring in a second view made from its buffers', () => {
    const ring = SharedRing.create();
    const [control, data] = ring.buffers();
    const other = SharedRing.attach(control, data);
    ring.tryPut(bytes(70_000, 9), 0, false); // grows the buffer: the other view sees it
    other.setFlag(Flag.WriterClosed);
    expect(same(other.tryGet(), bytes(70_000, 9))).toBe(true);
    expect(ring.flags & Flag.WriterClosed).toBe(Flag.WriterClosed);
  });

  it('two producer and two consumer threads: every record arrives once, intact, in each producer’s order, while the ring wraps and grows', async () => {
    const ring = SharedRing.create();
    const [control, data] = ring.buffers();
    const producers = 2;
    const perProducer = 3000;
    const total = producers * perProducer;
    const seen = new SharedArrayBuffer((total + 2) * 4);
    const script = new URL('../../../fixtures/ringWorker.mjs', import.meta.url);
    const start = (role: string, id: number) =>
      new Worker(script, { workerData: { role, id, control, data, seen, producers, perProducer } });
    const workers = [start('consumer', 0), start('consumer', 1), start('producer', 0), start('producer', 1)];
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.once('error', reject);
            worker.once('exit', () => resolve());
          }),
      ),
    );
    const counts = new Int32Array(seen);
    expect(counts[total]).toBe(total);
    expect(counts[total + 1]).toBe(0);
    expect(counts.subarray(0, total).every((count) => count === 1)).toBe(true);
    expect(Atomics.load(ring.control, Word.Capacity)).toBeGreaterThan(64 * 1024);
    expect(ring.count).toBe(0);
  }, 120_000);
});

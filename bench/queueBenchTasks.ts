/** Tasks of the queue benchmark (bench/queues.ts): a producer and a consumer process. */
import { task, type Queue, type SimpleQueue } from 'fanout';

/** The item the benchmark carries: a small record, the same for the queue and the MessagePort. */
export function benchItem(i: number): { id: number; name: string; values: number[] } {
  return { id: i, name: `item-${i}`, values: [i, i + 1, i + 2] };
}

/** Waits for the go signal, then puts `count` items. */
export const queueProducer = task('bench.queueProducer', async (q: Queue, count: number, ready: SimpleQueue, go: SimpleQueue) => {
  await ready.put('producer');
  await go.get();
  for (let i = 0; i < count; i++) await q.put(benchItem(i));
});

/** Waits for the go signal, gets `count` items, checks the last one, then reports. */
export const queueConsumer = task(
  'bench.queueConsumer',
  async (q: Queue, count: number, ready: SimpleQueue, go: SimpleQueue, done: SimpleQueue) => {
    await ready.put('consumer');
    await go.get();
    let last: unknown;
    for (let i = 0; i < count; i++) last = await q.get();
    await done.put((last as { id: number }).id);
  },
);

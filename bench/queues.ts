/**
 * Queue throughput: items put by one process and taken by another through a fanout `Queue`,
 * against the same items posted over a raw `MessagePort` between two worker threads. Both are
 * measured in the same run, from the go signal to the consumer's report of the last item.
 *
 *   npx tsx bench/queues.ts
 */
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { Process, Queue, SimpleQueue } from 'fanout';
import { benchItem, queueConsumer, queueProducer } from './queueBenchTasks.js';
import { benchRow, type BenchOptions, type BenchTable } from './report.js';
import { median } from './stats.js';

/**
 * The queue section of `npm run bench`: `Queue` put+get between two processes against a raw
 * `MessagePort` between two workers carrying the same items, medians of `reps` rounds (after a
 * warm-up) in which the two take turns.
 *
 * @example
 * ```ts
 * const [table] = await runQueuesBench({ quick: true, full: false, reps: 2, cases: [] });
 * ```
 */
export async function runQueuesBench(options: BenchOptions): Promise<BenchTable[]> {
  const items = options.quick ? 20_000 : 200_000;
  await timeMessagePort(items);
  await timeQueue(items);
  const portMs: number[] = [];
  const queueMs: number[] = [];
  for (let round = 0; round < options.reps; round++) {
    portMs.push(await timeMessagePort(items));
    queueMs.push(await timeQueue(items));
  }
  const rate = (ms: number) => (items / ms) * 1000;
  return [
    {
      title: `queues: ${items.toLocaleString('en-US')} items put by one process and taken by another`,
      rows: [
        benchRow({
          metric: 'Queue put+get throughput',
          unit: 'items/s',
          ours: rate(median(queueMs)),
          peer: rate(median(portMs)),
          peerName: 'raw MessagePort, worker → worker, same items',
          target: { of: 'ratio', atLeast: 0.5 },
        }),
      ],
      notes: [
        "Timed from the go signal to the consumer's report of the last item. The Queue encodes items with fanout's codec; the MessagePort peer uses structured clone.",
      ],
    },
  ];
}

async function timeQueue(count: number): Promise<number> {
  const q = new Queue();
  const ready = new SimpleQueue<string>();
  const go = new SimpleQueue<string>();
  const done = new SimpleQueue<number>();
  const consumer = new Process({ target: queueConsumer, args: [q, count, ready, go, done] });
  const producer = new Process({ target: queueProducer, args: [q, count, ready, go] });
  consumer.start();
  producer.start();
  await ready.get();
  await ready.get();
  const start = performance.now();
  await go.put('go');
  await go.put('go');
  const last = await done.get();
  const ms = performance.now() - start;
  if (last !== count - 1) throw new Error(`The queue consumer ended on item ${last}, not ${count - 1}.`);
  await Promise.all([consumer.join(), producer.join()]);
  return ms;
}

const portWorker = `
const { parentPort, workerData } = require('node:worker_threads');
const { role, count, port } = workerData;
${benchItem.toString()}
if (role === 'producer') {
  parentPort.once('message', () => {
    for (let i = 0; i < count; i++) port.postMessage(benchItem(i));
  });
} else {
  let received = 0;
  let last;
  port.on('message', (item) => {
    last = item;
    if (++received === count) { parentPort.postMessage(last.id); port.close(); }
  });
  parentPort.once('message', () => undefined);
}
parentPort.postMessage('ready');
`;

async function timeMessagePort(count: number): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const producer = new Worker(portWorker, {
    eval: true,
    workerData: { role: 'producer', count, port: port1 },
    transferList: [port1],
  });
  const consumer = new Worker(portWorker, {
    eval: true,
    workerData: { role: 'consumer', count, port: port2 },
    transferList: [port2],
  });
  const message = (worker: Worker) => new Promise<unknown>((resolve) => worker.once('message', resolve));
  await Promise.all([message(producer), message(consumer)]);
  const finished = message(consumer);
  const start = performance.now();
  producer.postMessage('go');
  consumer.postMessage('go');
  const last = await finished;
  const ms = performance.now() - start;
  if (last !== count - 1) throw new Error(`The MessagePort consumer ended on item ${String(last)}, not ${count - 1}.`);
  await Promise.all([producer.terminate(), consumer.terminate()]);
  return ms;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const table of await runQueuesBench({ quick: false, full: false, reps: 5, cases: [] })) console.table(table.rows);
}

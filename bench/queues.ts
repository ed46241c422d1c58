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

/** One printable line of the benchmark's results. */
export interface QueueBenchRow {
  name: string;
  items: number;
  ms: number;
  itemsPerSecond: number;
  /** Against the raw MessagePort of the same run (target ≥ 0.5). */
  ratio: number;
}

/** Measures `Queue` put+get between two processes, and the raw MessagePort peer. Best of `rounds`. */
export async function runQueueBench(options: { items?: number; rounds?: number } = {}): Promise<QueueBenchRow[]> {
  const items = options.items ?? 200_000;
  const rounds = options.rounds ?? 5;
  let queueMs = Infinity;
  let portMs = Infinity;
  for (let round = 0; round < rounds; round++) {
    portMs = Math.min(portMs, await timeMessagePort(items));
    queueMs = Math.min(queueMs, await timeQueue(items));
  }
  const row = (name: string, ms: number): QueueBenchRow => ({
    name,
    items,
    ms: Math.round(ms),
    itemsPerSecond: Math.round((items / ms) * 1000),
    ratio: Number((portMs / ms).toFixed(2)),
  });
  return [row('raw MessagePort, worker → worker', portMs), row('fanout Queue, process → process', queueMs)];
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
  console.table(await runQueueBench());
}

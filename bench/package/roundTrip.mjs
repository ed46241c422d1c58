// One-at-a-time round trips, in a fresh process for one side: fanout's `apply` on the compiled
// package, piscina's `run`, or a raw postMessage ping-pong (the floor). 2 workers on the pool
// sides, as in bench/pool.ts case (c). After `--warmup` calls that do not count, times `--calls`
// calls one after another and prints { p50, p99 } in µs.
//
//   node roundTrip.mjs --side fanout|piscina|raw --calls 2000 --warmup 200
import { Worker } from 'node:worker_threads';

const WORKERS = 2;
const value = (flag, fallback) => {
  const at = process.argv.indexOf(flag);
  return at === -1 ? fallback : process.argv[at + 1];
};
const side = value('--side', 'fanout');
const calls = Number(value('--calls', '2000'));
const warmup = Number(value('--warmup', '200'));

/** The call under test, and how to stop its workers. */
async function contestant() {
  if (side === 'fanout') {
    const { Pool } = await import('fanout');
    const { addOne } = await import('./tasks.mjs');
    const pool = new Pool(WORKERS);
    return { call: (x) => pool.apply(addOne, [x]), stop: () => pool.terminate() };
  }
  if (side === 'piscina') {
    const { Piscina } = await import('piscina');
    const filename = new URL('../piscinaWorker.mjs', import.meta.url).href;
    const piscina = new Piscina({ filename, minThreads: WORKERS, maxThreads: WORKERS });
    return { call: (x) => piscina.run(x), stop: () => piscina.destroy() };
  }
  if (side === 'raw') {
    const worker = new Worker(new URL('../pingWorker.mjs', import.meta.url));
    let waiting;
    worker.on('message', (result) => waiting(result));
    const call = (x) =>
      new Promise((resolve) => {
        waiting = resolve;
        worker.postMessage(x);
      });
    return { call, stop: () => worker.terminate() };
  }
  throw new RangeError(`--side must be fanout, piscina or raw, got ${side}`);
}

/** Nearest-rank percentile, as bench/stats.ts computes it. */
function percentile(sorted, p) {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

const { call, stop } = await contestant();
for (let i = 0; i < warmup; i++) await call(i);
const micros = new Float64Array(calls);
for (let i = 0; i < calls; i++) {
  const start = performance.now();
  const result = await call(i);
  micros[i] = (performance.now() - start) * 1000;
  if (result !== i + 1) throw new Error(`${side} returned ${result} for ${i}`);
}
await stop();
micros.sort();
console.log(JSON.stringify({ side, calls, p50: percentile(micros, 50), p99: percentile(micros, 99) }));

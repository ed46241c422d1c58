/**
 * The memory benchmark, run in a fresh process by bench/pool.ts so that nothing else the
 * harness did counts against it: `pool.imap` over a generator of `--items` numbers (10 million
 * by default), summing the results, while sampling the process's RSS (worker threads included).
 * Prints one JSON object on stdout.
 *
 *   node --import tsx bench/imapMemory.ts --items 10000000 --processes 2
 */
import { parseArgs } from 'node:util';
import { Pool } from 'fanout';
import { addOne } from './tasks.js';

/** How often the timer samples RSS; the loop also samples every 2^16 items. */
const SAMPLE_MS = 10;

const { values } = parseArgs({
  options: { items: { type: 'string', default: '10000000' }, processes: { type: 'string', default: '2' } },
});
const items = Number(values.items);
const processes = Number(values.processes);
if (!Number.isInteger(items) || items < 1)
  throw new RangeError(`imapMemory.ts: --items must be a whole number ≥ 1, got ${values.items}`);
if (!Number.isInteger(processes) || processes < 1)
  throw new RangeError(`imapMemory.ts: --processes must be a whole number ≥ 1, got ${values.processes}`);

function* numbers(count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
}

let peakRss = 0;
const sample = () => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
};
const startRss = process.memoryUsage.rss();
const timer = setInterval(sample, SAMPLE_MS);
const pool = new Pool(processes);
const start = performance.now();
let sum = 0;
let seen = 0;
for await (const value of pool.imap(addOne, numbers(items))) {
  sum += value;
  if ((++seen & 0xffff) === 0) sample();
}
const ms = performance.now() - start;
sample();
clearInterval(timer);
await pool.terminate();

// Σ (i + 1) for i < items.
const expected = (items * (items + 1)) / 2;
if (seen !== items || sum !== expected) {
  throw new Error(`imapMemory.ts: imap gave ${seen} results summing to ${sum}; expected ${items} summing to ${expected}`);
}
const mb = (bytes: number) => bytes / 1e6;
console.log(
  JSON.stringify({
    items,
    processes,
    ms,
    startRssMB: mb(startRss),
    peakRssMB: mb(peakRss),
    // The kernel's high-water mark (ru_maxrss, KiB), which no sampling can miss.
    maxRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6,
  }),
);

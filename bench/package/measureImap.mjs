// The measurement of bench/imapMemory.ts, shared by the package benchmark's JavaScript and
// TypeScript programs: `pool.imap` over a generator of `items` numbers, summing the results,
// while sampling the process's RSS (worker threads included) every 10 ms and every 2^16 items.

/** How often the timer samples RSS. */
const SAMPLE_MS = 10;

function* numbers(count) {
  for (let i = 0; i < count; i++) yield i;
}

/** Reads `--items N --processes N` from the command line (10M items and 2 workers by default). */
export function imapArguments(argv) {
  const value = (flag, fallback) => {
    const at = argv.indexOf(flag);
    return at === -1 ? fallback : argv[at + 1];
  };
  const items = Number(value('--items', '10000000'));
  const processes = Number(value('--processes', '2'));
  if (!Number.isInteger(items) || items < 1) throw new RangeError(`--items must be a whole number ≥ 1, got ${items}`);
  if (!Number.isInteger(processes) || processes < 1)
    throw new RangeError(`--processes must be a whole number ≥ 1, got ${processes}`);
  return { items, processes };
}

/** Runs the imap and returns what bench/imapMemory.ts prints (MB are 10^6 bytes). */
export async function measureImap(newPool, addOne, items) {
  let peakRss = 0;
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
  };
  const startRss = process.memoryUsage.rss();
  const timer = setInterval(sample, SAMPLE_MS);
  const pool = newPool();
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
    throw new Error(`imap gave ${seen} results summing to ${sum}; expected ${items} summing to ${expected}`);
  }
  const mb = (bytes) => bytes / 1e6;
  return {
    items,
    ms,
    startRssMB: mb(startRss),
    peakRssMB: mb(peakRss),
    // The kernel's high-water mark (ru_maxrss, KiB), which no sampling can miss.
    maxRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6,
  };
}

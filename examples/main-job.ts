/**
 * The main job (`npm start`): counts the primes below N by fanning ranges of numbers out to a
 * pool of workers, with a live progress bar on stderr and a summary on stdout.
 *
 * It uses the default context, so the backend is chosen outside the program:
 * `fanout run examples/main-job.ts --backend local|aws --processes N`.
 * `FANOUT_PRIMES_LIMIT` sets N (default 5,000,000,000: about 10–30 s on two cores).
 */
import { InvalidArgumentError, ProgressBar, getContext } from 'fanout';
import { countPrimes, countPrimesInRange, type NumberRange, type RangeCount } from './primeTasks.js';

const DEFAULT_LIMIT = 5_000_000_000;
const MAX_LIMIT = 1e13;
/** Numbers per range: one range is about 50 ms of sieving near 5·10^9, so progress moves smoothly. */
const MAX_RANGE_WIDTH = 10_000_000;
/** A small N is still cut into this many ranges, so that every worker gets some. */
const MIN_RANGES = 64;
/**
 * Ranges, spread evenly over [0, N), that are counted again on this thread at the end, alone:
 * to check the workers' counts, and to time one thread for the speedup.
 */
const SAMPLES = 8;

/** π(N), the number of primes below N, for well-known N (OEIS A006880; π(2^32); π(5·10^9)). */
const KNOWN_PRIME_COUNTS = new Map<number, number>([
  [10, 4],
  [100, 25],
  [1_000, 168],
  [10_000, 1_229],
  [100_000, 9_592],
  [1_000_000, 78_498],
  [10_000_000, 664_579],
  [100_000_000, 5_761_455],
  [1_000_000_000, 50_847_534],
  [2 ** 32, 203_280_221],
  [5_000_000_000, 234_954_223],
  [10_000_000_000, 455_052_511],
  [100_000_000_000, 4_118_054_813],
  [1_000_000_000_000, 37_607_912_018],
]);

const limit = readLimit(process.env.FANOUT_PRIMES_LIMIT);
const width = Math.max(1, Math.min(MAX_RANGE_WIDTH, Math.ceil(limit / MIN_RANGES)));
const rangeCount = Math.ceil(limit / width);

/** The ranges, made one at a time as the pool asks for them. */
function* ranges(): Generator<NumberRange> {
  for (let start = 0; start < limit; start += width) yield { start, end: Math.min(start + width, limit) };
}

const sampleStarts = new Set<number>();
for (let k = 0; k < Math.min(SAMPLES, rangeCount); k++) sampleStarts.add(Math.floor(((k + 0.5) * rangeCount) / SAMPLES) * width);

const context = getContext();
const startedAt = performance.now();
const pool = new context.Pool();
const bar = new ProgressBar({ total: rangeCount, label: `primes < ${format(limit)}`, unit: 'ranges' });
const samples: RangeCount[] = [];
let primes = 0;
try {
  // chunksize 1: each range is tens of ms of work, enough to be worth its own message, and
  // results (and the progress bar) then move one range at a time.
  for await (const result of pool.imapUnordered(countPrimes, ranges(), { chunksize: 1 })) {
    primes += result.count;
    if (sampleStarts.has(result.start)) samples.push(result);
    bar.tick();
  }
} finally {
  bar.finish();
  pool.close();
  await pool.join();
}
const wallMs = performance.now() - startedAt;
const stats = pool.stats();

const known = KNOWN_PRIME_COUNTS.get(limit);
const knownOk = known === undefined || known === primes;
// The pool is gone, so each sample runs on this thread alone. A first small range warms up the
// code (and its table of small primes), so that the timings measure the steady state.
countPrimesInRange({ start: 0, end: Math.min(limit, 100_000) });
const recounts = samples.map((sample) => {
  const began = performance.now();
  const count = countPrimesInRange(sample);
  return { sample, count, ms: performance.now() - began };
});
const samplesOk = recounts.length === sampleStarts.size && recounts.every(({ sample, count }) => count === sample.count);
const sampleMs = recounts.reduce((sum, { ms }) => sum + ms, 0) / Math.max(1, recounts.length);
const oneThreadMs = sampleMs * rangeCount;

const rows: Array<[string, string]> = [
  ['primes found', format(primes)],
  [
    'check',
    known === undefined
      ? `no known value of π(${format(limit)}) to compare with`
      : knownOk
        ? `equals the known π(${format(limit)}) = ${format(known)}`
        : `MISMATCH: the known π(${format(limit)}) is ${format(known)}`,
  ],
  [
    'sample check',
    `${recounts.length} ranges recounted on the main thread: ` +
      (samplesOk
        ? "all equal the workers' counts"
        : `MISMATCH: ${recounts
            .filter(({ sample, count }) => count !== sample.count)
            .map(({ sample, count }) => `[${sample.start}, ${sample.end}) worker ${sample.count}, here ${count}`)
            .join('; ')}`),
  ],
  ['items', `${format(rangeCount)} ranges of ${format(width)} numbers`],
  ['chunks', format(stats.chunksCompleted)],
  [
    'workers',
    context.name === 'local'
      ? `${pool.processes} thread${pool.processes === 1 ? '' : 's'} (${stats.workersStarted} started)`
      : `remote (Lambda or a fanout worker fleet); chunked for ${pool.processes}`,
  ],
  ['wall time', `${seconds(wallMs)} (${(rangeCount / (wallMs / 1000)).toFixed(1)} ranges/s)`],
  [
    'speedup',
    `${(oneThreadMs / wallMs).toFixed(2)}× over one thread (estimated: the ${recounts.length} sample ranges took ` +
      `${sampleMs.toFixed(1)} ms each run alone here, so one thread would need ~${seconds(oneThreadMs)} for all)`,
  ],
  [
    'parallelism',
    `${(stats.busyMs / wallMs).toFixed(2)} (measured: the workers were busy ${seconds(stats.busyMs)} in all, ÷ wall time)`,
  ],
];
process.stdout.write(
  `\nPrimes below ${format(limit)}: fanout main job on the ${context.name} backend\n` +
    rows.map(([name, value]) => `  ${name.padEnd(14)}${value}\n`).join(''),
);
if (!knownOk || !samplesOk) {
  process.stderr.write('main job: the prime count is WRONG (see the checks above).\n');
  process.exitCode = 1;
}

function readLimit(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LIMIT;
  const parsed = /^\s*$/.test(value) ? NaN : Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 10 || parsed > MAX_LIMIT) {
    throw new InvalidArgumentError(
      'the FANOUT_PRIMES_LIMIT environment variable',
      value,
      `a whole number from 10 to ${MAX_LIMIT.toExponential()} (such as 1000000 or 1e9)`,
    );
  }
  return parsed;
}

function format(n: number): string {
  return n.toLocaleString('en-US');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

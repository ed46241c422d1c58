/**
 * The local Pool benchmark: fanout's Pool against piscina, raw worker_threads and Python's
 * multiprocessing.Pool, side by side in one run, 2 workers on each side. Every figure is a
 * median over `reps` rounds after a warm-up round; the contestants of a case take turns in
 * each round, so that load from elsewhere on the machine falls on all of them alike.
 *
 * Cases: a (map of tiny items), b (applyAsync in flight), c (round-trip latency),
 * d (CPU-bound speedup), e (Python), memory (imap over a 10M-item generator).
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Pool } from 'fanout';
import { benchRow, type BenchOptions, type BenchTable } from './report.js';
import { median, percentile, rounds, time } from './stats.js';
import { addOne, countPrimes } from './tasks.js';

/** Workers on each side of every comparison (the CPU-bound case uses one per core). */
const WORKERS = 2;
const POOL_CASES = ['a', 'b', 'c', 'd', 'e', 'memory'] as const;
type PoolCase = (typeof POOL_CASES)[number];

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PISCINA_WORKER = new URL('./piscinaWorker.mjs', import.meta.url).href;
const PING_WORKER = new URL('./pingWorker.mjs', import.meta.url);
const PYTHON_SCRIPT = fileURLToPath(new URL('./python/pool_bench.py', import.meta.url));
const MEMORY_SCRIPT = fileURLToPath(new URL('./imapMemory.ts', import.meta.url));

/** Sizes of a normal run, and of a `--quick` one (which only checks that everything runs). */
function sizes(options: BenchOptions) {
  if (options.quick) {
    return {
      tinyItems: 20_000,
      piscinaPerItem: 2_000,
      inFlight: 2_000,
      roundTrips: 100,
      cpuItems: 40,
      pythonCpuItems: 4,
      imapItems: 100_000,
    };
  }
  return {
    tinyItems: 1_000_000,
    // piscina's rate one task per item is flat from 100k to 1M items in flight (~28k/s here),
    // and 1M takes ~36 s a round: a sample unless --full.
    piscinaPerItem: options.full ? 1_000_000 : 100_000,
    inFlight: 100_000,
    roundTrips: 2_000,
    // About 2 s of work on one worker (0.43 ms per item here); Python's per-item work is the
    // same but ~30× slower, so it gets fewer items (its rate is per item).
    cpuItems: 4_800,
    pythonCpuItems: 160,
    imapItems: 10_000_000,
  };
}

/** What one case measured that another case compares with (case e reuses d). */
interface Shared {
  cpuRate?: number;
  cpuFraction?: number;
}

/**
 * Runs the Pool benchmark and returns one table per case.
 *
 * @example
 * ```ts
 * const tables = await runPoolBench({ quick: false, full: false, reps: 5, cases: [] });
 * ```
 */
export async function runPoolBench(options: BenchOptions): Promise<BenchTable[]> {
  const unknown = options.cases.filter((name) => !(POOL_CASES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new RangeError(`bench pool: unknown case(s) ${unknown.join(', ')}; the cases are ${POOL_CASES.join(', ')}`);
  }
  const wanted = (name: PoolCase) => options.cases.length === 0 || options.cases.includes(name);
  const size = sizes(options);
  const shared: Shared = {};
  const tables: BenchTable[] = [];
  if (wanted('a')) tables.push(await benchTinyMap(options.reps, size.tinyItems, size.piscinaPerItem));
  if (wanted('b')) tables.push(await benchInFlight(options.reps, size.inFlight));
  if (wanted('c')) tables.push(await benchLatency(options.reps, size.roundTrips));
  if (wanted('d')) tables.push(await benchCpu(options.reps, size.cpuItems, shared));
  if (wanted('e')) tables.push(await benchPython(options, size, shared));
  if (wanted('memory')) tables.push(await benchMemory(size.imapItems));
  return tables;
}

function progress(message: string): void {
  process.stderr.write(`[bench pool] ${message}\n`);
}

function newPiscina(): Piscina {
  return new Piscina({ filename: PISCINA_WORKER, minThreads: WORKERS, maxThreads: WORKERS });
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** Throws unless `results` is the tiny task applied to 0 .. count - 1 (spot checks). */
function checkTiny(who: string, results: readonly number[], count: number): void {
  const probes = [0, count >> 1, count - 1];
  if (results.length !== count || probes.some((i) => results[i] !== i + 1)) {
    throw new Error(`bench pool: ${who} returned wrong results for the tiny task`);
  }
}

const perSecond = (items: number, ms: number) => (items / ms) * 1000;
const millions = (count: number) => (count >= 1e6 ? `${count / 1e6}M` : count >= 1e3 ? `${count / 1e3}k` : String(count));

/** (a) `map` of tiny items vs piscina one task per item and piscina with hand-made chunks. */
async function benchTinyMap(reps: number, count: number, perItemCount: number): Promise<BenchTable> {
  progress(`(a) map of ${millions(count)} tiny items, ${reps} rounds + warm-up`);
  const items = range(count);
  const perItem = items.slice(0, perItemCount);
  // Python's rule, which is also our default: about four chunks per worker.
  const chunksize = Math.ceil(count / (4 * WORKERS));
  const chunkCount = Math.ceil(count / chunksize);
  const pool = new Pool(WORKERS);
  const piscina = newPiscina();
  try {
    const samples = await rounds(reps, {
      ours: () =>
        time(async () => {
          checkTiny('fanout map', await pool.map(addOne, items), count);
        }),
      chunked: () =>
        time(async () => {
          const parts = await Promise.all(
            chunksOf(items, WORKERS).map((chunk) => piscina.run(chunk, { name: 'addOneChunk' }) as Promise<number[]>),
          );
          checkTiny('piscina (chunks)', parts.flat(), count);
        }),
      perItem: () =>
        time(async () => {
          const results = await Promise.all(perItem.map((x) => piscina.run(x) as Promise<number>));
          checkTiny('piscina (1 task per item)', results, perItemCount);
        }),
    });
    const ours = perSecond(count, median(samples.ours));
    const metric = `map of ${millions(count)} tiny items`;
    return {
      title: `(a) map of ${millions(count)} tiny items (x => x + 1), ${WORKERS} workers each`,
      rows: [
        benchRow({
          metric,
          unit: 'items/s',
          ours,
          peer: perSecond(perItemCount, median(samples.perItem)),
          peerName: 'piscina, 1 task per item',
          target: { of: 'ratio', atLeast: 10 },
        }),
        benchRow({
          metric,
          unit: 'items/s',
          ours,
          peer: perSecond(count, median(samples.chunked)),
          peerName: `piscina, ${chunkCount} hand-made chunks`,
          target: { of: 'ratio', atLeast: 0.8 },
        }),
      ],
      notes: [
        `fanout: pool.map(addOne, items), default chunksize ${chunksize} (${chunkCount} chunks, Python's rule ceil(n / (4 × workers))).`,
        `piscina chunks: the same ${chunkCount} chunks, sliced, sent with run(chunk) and flattened back, all inside the timing.`,
        perItemCount === count
          ? `piscina 1 task per item: all ${millions(count)} items in flight at once.`
          : `piscina 1 task per item: a sample of ${millions(perItemCount)} items in flight at once (its rate is flat from 100k to 1M; run with --full for all ${millions(count)}).`,
      ],
    };
  } finally {
    await pool.terminate();
    await piscina.destroy();
  }
}

/** (b) Many `applyAsync` calls in flight at once vs as many piscina `run` calls. */
async function benchInFlight(reps: number, count: number): Promise<BenchTable> {
  progress(`(b) ${millions(count)} applyAsync in flight, ${reps} rounds + warm-up`);
  const pool = new Pool(WORKERS);
  const piscina = newPiscina();
  try {
    const samples = await rounds(reps, {
      ours: () =>
        time(async () => {
          const results = new Array<PromiseLike<number>>(count);
          for (let i = 0; i < count; i++) results[i] = pool.applyAsync(addOne, [i]);
          checkTiny('fanout applyAsync', await Promise.all(results), count);
        }),
      piscina: () =>
        time(async () => {
          const results = new Array<Promise<number>>(count);
          for (let i = 0; i < count; i++) results[i] = piscina.run(i) as Promise<number>;
          checkTiny('piscina run', await Promise.all(results), count);
        }),
    });
    return {
      title: `(b) ${millions(count)} applyAsync tiny tasks in flight at once, ${WORKERS} workers each`,
      rows: [
        benchRow({
          metric: `${millions(count)} applyAsync in flight`,
          unit: 'tasks/s',
          ours: perSecond(count, median(samples.ours)),
          peer: perSecond(count, median(samples.piscina)),
          peerName: `piscina run ×${millions(count)}`,
          target: { of: 'ratio', atLeast: 3 },
        }),
      ],
      notes: ['Default options on both sides; timed from the first submit until every result has arrived.'],
    };
  } finally {
    await pool.terminate();
    await piscina.destroy();
  }
}

interface Latency {
  p50: number;
  p99: number;
}

/** Round-trip times in µs of `count` calls made one at a time. */
async function roundTrips(count: number, call: (i: number) => Promise<unknown>): Promise<Latency> {
  const micros = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await call(i);
    micros[i] = (performance.now() - start) * 1000;
  }
  const values = Array.from(micros);
  return { p50: percentile(values, 50), p99: percentile(values, 99) };
}

/** A bare worker that echoes `x + 1`, and a ping that awaits the echo. */
function pingPong(): { ping: (x: number) => Promise<number>; stop: () => Promise<number> } {
  const worker = new Worker(PING_WORKER);
  let waiting: ((value: number) => void) | undefined;
  worker.on('message', (value: number) => {
    const resolve = waiting;
    waiting = undefined;
    resolve?.(value);
  });
  return {
    ping: (x) =>
      new Promise<number>((resolve) => {
        waiting = resolve;
        worker.postMessage(x);
      }),
    stop: () => worker.terminate(),
  };
}

/** (c) One call at a time: round-trip latency vs piscina and a raw postMessage ping-pong. */
async function benchLatency(reps: number, count: number): Promise<BenchTable> {
  progress(`(c) round-trip latency, ${count} calls one at a time, ${reps} rounds + warm-up`);
  const pool = new Pool(WORKERS);
  const piscina = newPiscina();
  const raw = pingPong();
  const expect = (who: string) => (value: number, x: number) => {
    if (value !== x + 1) throw new Error(`bench pool: ${who} returned ${value} for ${x}`);
  };
  const checkOurs = expect('fanout apply');
  const checkPiscina = expect('piscina run');
  const checkRaw = expect('the ping worker');
  try {
    const samples = await rounds(reps, {
      ours: () => roundTrips(count, async (x) => checkOurs(await pool.apply(addOne, [x]), x)),
      piscina: () => roundTrips(count, async (x) => checkPiscina((await piscina.run(x)) as number, x)),
      raw: () => roundTrips(count, async (x) => checkRaw(await raw.ping(x), x)),
    });
    const p50 = (side: Latency[]) => median(side.map((latency) => latency.p50));
    const p99 = (side: Latency[]) => median(side.map((latency) => latency.p99));
    return {
      title: `(c) apply round trip, one call at a time (${count} calls a round)`,
      rows: [
        benchRow({
          metric: 'round trip p50',
          unit: 'µs',
          ours: p50(samples.ours),
          peer: p50(samples.piscina),
          peerName: 'piscina run',
          target: { of: 'ratio', atMost: 1 },
        }),
        benchRow({
          metric: 'round trip p99',
          unit: 'µs',
          ours: p99(samples.ours),
          peer: p99(samples.piscina),
          peerName: 'piscina run',
        }),
        benchRow({
          metric: 'round trip p50',
          unit: 'µs',
          ours: p50(samples.ours),
          peer: p50(samples.raw),
          peerName: 'raw postMessage ping-pong (the floor)',
        }),
        benchRow({
          metric: 'round trip p99',
          unit: 'µs',
          ours: p99(samples.ours),
          peer: p99(samples.raw),
          peerName: 'raw postMessage ping-pong (the floor)',
        }),
      ],
      notes: [
        `Percentiles per round of ${count} sequential calls, then the median over ${reps} rounds; ratio = ours / peer (lower is better).`,
      ],
    };
  } finally {
    await pool.terminate();
    await piscina.destroy();
    await raw.stop();
  }
}

/** Hand-made chunks as our default makes them: about four per worker (Python's rule). */
function chunksOf(items: number[], workers: number): number[][] {
  const chunksize = Math.ceil(items.length / (4 * workers));
  const chunks: number[][] = [];
  for (let start = 0; start < items.length; start += chunksize) chunks.push(items.slice(start, start + chunksize));
  return chunks;
}

/**
 * (d) A CPU-bound map's speedup with one worker per core over one worker. piscina runs the same
 * work in the same rounds, as a control: on a shared machine, its speedup shows what the
 * cores had to give at the time.
 */
async function benchCpu(reps: number, count: number, shared: Shared): Promise<BenchTable> {
  const cores = availableParallelism();
  progress(`(d) CPU-bound map of ${count} prime-counting items, 1 vs ${cores} workers, ${reps} rounds + warm-up`);
  const items = range(count);
  const one = new Pool(1);
  const all = new Pool(cores);
  const piscinaOne = new Piscina({ filename: PISCINA_WORKER, minThreads: 1, maxThreads: 1 });
  const piscinaAll = new Piscina({ filename: PISCINA_WORKER, minThreads: cores, maxThreads: cores });
  // CPU time the whole process got per unit of wall time while our all-workers map ran: on a
  // shared machine, the speedup cannot exceed it (the warm-up round's figure is dropped).
  const coresObtained: number[] = [];
  let expected: number | undefined;
  const check = (who: string, counts: number[]) => {
    const total = counts.reduce((sum, primes) => sum + primes, 0);
    expected ??= total;
    if (counts.length !== count || total !== expected) {
      throw new Error(`bench pool: ${who} counted ${total} primes in ${counts.length} items; expected ${expected} in ${count}`);
    }
  };
  const ours = async (pool: Pool) => check('fanout', await pool.map(countPrimes, items));
  const peer = async (piscina: Piscina, workers: number) => {
    const parts = await Promise.all(
      chunksOf(items, workers).map((chunk) => piscina.run(chunk, { name: 'countPrimesChunk' }) as Promise<number[]>),
    );
    check('piscina', parts.flat());
  };
  try {
    const samples = await rounds(reps, {
      one: () => time(() => ours(one)),
      all: async () => {
        const cpuBefore = process.cpuUsage();
        const ms = await time(() => ours(all));
        const cpu = process.cpuUsage(cpuBefore);
        coresObtained.push((cpu.user + cpu.system) / 1000 / ms);
        return ms;
      },
      piscinaOne: () => time(() => peer(piscinaOne, 1)),
      piscinaAll: () => time(() => peer(piscinaAll, cores)),
    });
    const speedup = (single: number[], many: number[]) => median(single.map((ms, round) => ms / many[round]!));
    const oursSpeedup = speedup(samples.one, samples.all);
    const rate = perSecond(count, median(samples.all));
    shared.cpuRate = rate;
    shared.cpuFraction = oursSpeedup / cores;
    return {
      title: `(d) CPU-bound map: speedup over one worker (${cores} cores, ${cores} workers)`,
      rows: [
        benchRow({
          metric: `speedup of ${cores} workers over 1`,
          unit: '×',
          ours: oursSpeedup,
          peer: cores,
          peerName: 'ideal: the core count',
          target: { of: 'ratio', atLeast: 0.9 },
        }),
        benchRow({
          metric: `speedup of ${cores} workers over 1`,
          unit: '×',
          ours: oursSpeedup,
          peer: speedup(samples.piscinaOne, samples.piscinaAll),
          peerName: 'piscina, same chunks (control)',
        }),
        benchRow({
          metric: `cores obtained during the ${cores}-worker map`,
          unit: '',
          ours: median(coresObtained.slice(1)),
          peer: cores,
          peerName: 'cores',
          note: 'process CPU time / wall time: what the machine gave this process while the other workloads ran',
        }),
        benchRow({
          metric: `CPU-bound items/s, ${cores} workers`,
          unit: 'items/s',
          ours: rate,
          peer: perSecond(count, median(samples.piscinaAll)),
          peerName: 'piscina, same chunks',
        }),
      ],
      notes: [
        `${count} items, each counting the primes in a range of 2000 numbers by trial division; default chunking (piscina: the same chunks by hand).`,
        'Speedup = median over rounds of (1-worker time / all-workers time); ratio = speedup / cores in the first row.',
      ],
    };
  } finally {
    await one.terminate();
    await all.terminate();
    await piscinaOne.destroy();
    await piscinaAll.destroy();
  }
}

interface PythonResults {
  python: string;
  startMethod: string;
  processes: number;
  tiny: { items: number; seconds: number[] };
  cpu: { items: number; onePoolSeconds: number[]; poolSeconds: number[] };
}

/** Runs bench/python/pool_bench.py; undefined if there is no python3. */
async function runPython(args: string[]): Promise<PythonResults | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [PYTHON_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve(undefined) : reject(error)));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bench pool: python3 ${PYTHON_SCRIPT} exited with code ${code}:\n${stderr}`));
      try {
        resolve(JSON.parse(stdout) as PythonResults);
      } catch {
        reject(new Error(`bench pool: python3 ${PYTHON_SCRIPT} printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
  });
}

/**
 * (e) Python's multiprocessing.Pool.map on the same tiny items and CPU-bound work. The tiny
 * map, which has a target, takes turns with ours in the same rounds (one Python process per
 * round: a warm-up map, then one timed map); the CPU-bound figures are informative only and
 * come from one Python run against case (d)'s figures.
 */
async function benchPython(options: BenchOptions, size: ReturnType<typeof sizes>, shared: Shared): Promise<BenchTable> {
  const title = `(e) vs Python multiprocessing.Pool.map (${WORKERS} processes, default chunking)`;
  progress(`(e) Python Pool.map, ${options.reps} rounds + warm-up`);
  const pythonArgs = (items: number, cpuItems: number, reps: number) => [
    ...['--processes', String(WORKERS), '--items', String(items)],
    ...['--cpu-items', String(cpuItems), '--reps', String(reps)],
  ];
  const probe = await runPython(pythonArgs(1000, 0, 1));
  if (!probe) return { title, rows: [], notes: ['python3 was not found on the PATH: the Python comparison was skipped.'] };
  const items = range(size.tinyItems);
  const pool = new Pool(WORKERS);
  let tiny: Record<'ours' | 'python', number[]>;
  try {
    tiny = await rounds(options.reps, {
      ours: () =>
        time(async () => {
          checkTiny('fanout map', await pool.map(addOne, items), size.tinyItems);
        }),
      python: async () => (await runPython(pythonArgs(size.tinyItems, 0, 1)))!.tiny.seconds[0]! * 1000,
    });
  } finally {
    await pool.terminate();
  }
  if (shared.cpuRate === undefined) await benchCpu(options.reps, size.cpuItems, shared);
  const python = (await runPython(pythonArgs(0, size.pythonCpuItems, options.reps)))!;
  const cores = availableParallelism();
  const pythonCpuSpeedup = median(python.cpu.onePoolSeconds.map((seconds, round) => seconds / python.cpu.poolSeconds[round]!));
  return {
    title,
    rows: [
      benchRow({
        metric: `map of ${millions(size.tinyItems)} tiny items`,
        unit: 'items/s',
        ours: perSecond(size.tinyItems, median(tiny.ours)),
        peer: perSecond(size.tinyItems, median(tiny.python)),
        peerName: 'Python Pool.map',
        target: { of: 'ratio', atLeast: 2 },
      }),
      benchRow({
        metric: 'CPU-bound items/s',
        unit: 'items/s',
        ours: shared.cpuRate!,
        peer: python.cpu.items / median(python.cpu.poolSeconds),
        peerName: `Python Pool.map, ${python.processes} processes`,
        note: 'the same trial division in both languages: this compares V8 with CPython more than the two pools',
      }),
      benchRow({
        metric: 'CPU-bound speedup / cores',
        unit: '×',
        ours: shared.cpuFraction!,
        peer: pythonCpuSpeedup / cores,
        peerName: `Python Pool(${python.processes}) over Pool(1)`,
      }),
    ],
    notes: [
      `Python ${python.python} (start method ${python.startMethod}), timed inside the Python process with the pool already started.`,
      "Tiny map: ours and Python take turns in each round; CPU-bound rows: our figures from case (d), Python's from one run of " +
        `${options.reps} rounds after a warm-up, on ${python.cpu.items} items of the same work (CPython is ~30× slower per item).`,
    ],
  };
}

interface MemoryResults {
  items: number;
  ms: number;
  startRssMB: number;
  peakRssMB: number;
  maxRssMB: number;
}

/** The memory case in a fresh process (bench/imapMemory.ts), so nothing else here counts. */
async function runMemoryChild(items: number): Promise<MemoryResults> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MEMORY_SCRIPT, '--items', String(items), '--processes', String(WORKERS)],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bench pool: ${MEMORY_SCRIPT} exited with code ${code}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as MemoryResults);
      } catch {
        reject(new Error(`bench pool: ${MEMORY_SCRIPT} printed no JSON:\n${stdout}`));
      }
    });
  });
}

/** Memory: `imap` over a generator of 10 million numbers, summing the results. */
async function benchMemory(items: number): Promise<BenchTable> {
  progress(`(memory) imap over a ${millions(items)}-item generator, in a fresh process`);
  const result = await runMemoryChild(items);
  return {
    title: `Memory: imap over a ${millions(items)}-item generator (${WORKERS} workers), one run in a fresh process`,
    rows: [
      benchRow({
        metric: 'peak RSS (sampled every 10 ms)',
        unit: 'MB',
        ours: result.peakRssMB,
        target: { of: 'ours', atMost: 200 },
      }),
      benchRow({ metric: 'peak RSS (kernel high-water mark)', unit: 'MB', ours: result.maxRssMB }),
      benchRow({ metric: 'RSS before the pool started', unit: 'MB', ours: result.startRssMB }),
      benchRow({ metric: 'imap throughput', unit: 'items/s', ours: perSecond(result.items, result.ms) }),
    ],
    notes: ['RSS of the whole process: main thread, both worker threads and the tsx loader; results summed and checked.'],
  };
}

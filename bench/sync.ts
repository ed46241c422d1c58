/**
 * Benchmarks of the synchronisation primitives and shared memory (local backend), as a section
 * of `npm run bench` (`runSyncBench(options)`), or alone: `npx tsx bench/sync.ts [--quick]`.
 *
 * Every figure is measured as users call the API: `await lock.acquire(); await lock.release();`.
 * The peer is the floor under any lock in shared memory: a bare `Atomics.compareExchange` +
 * `Atomics.store` pair in a synchronous loop, measured in the same run.
 */
import { Lock, Pool, RLock, Semaphore, Value } from 'fanout';
import { benchLockedIncrements } from './syncBenchTasks.js';
import { benchRow, type BenchTable } from './report.js';
import { median } from './stats.js';

/** The options `bench/run.ts` passes to every section (only these fields are read). */
export interface SyncBenchOptions {
  quick?: boolean;
  reps?: number;
}

/** Operations per second of `round` (which runs `count` operations): the median of `reps` after a warm-up. */
async function rate(reps: number, count: number, round: (count: number) => Promise<void> | void): Promise<number> {
  await round(count);
  const rates: number[] = [];
  for (let i = 0; i < reps; i++) {
    const started = performance.now();
    await round(count);
    rates.push((count / (performance.now() - started)) * 1000);
  }
  return median(rates);
}

/**
 * Runs the sync benchmarks and returns their table.
 *
 * @example
 * ```ts
 * const [table] = await runSyncBench({ reps: 5 });
 * console.table(table.rows);
 * ```
 */
export async function runSyncBench(options: SyncBenchOptions = {}): Promise<BenchTable[]> {
  const reps = options.reps ?? (options.quick ? 2 : 5);
  const ops = options.quick ? 100_000 : 1_000_000;

  const words = new Int32Array(new SharedArrayBuffer(8));
  const peer = await rate(reps, ops * 10, (count) => {
    for (let i = 0; i < count; i++) {
      if (Atomics.compareExchange(words, 0, 0, 1) !== 0) throw new Error('peer lock was held');
      Atomics.store(words, 0, 0);
    }
  });
  const peerName = 'bare Atomics CAS + store, synchronous';

  const lock = new Lock();
  const lockRate = await rate(reps, ops, async (count) => {
    for (let i = 0; i < count; i++) {
      await lock.acquire();
      await lock.release();
    }
  });
  const rlock = new RLock();
  const rlockRate = await rate(reps, ops, async (count) => {
    for (let i = 0; i < count; i++) {
      await rlock.acquire();
      await rlock.release();
    }
  });
  const semaphore = new Semaphore(1);
  const semaphoreRate = await rate(reps, ops, async (count) => {
    for (let i = 0; i < count; i++) {
      await semaphore.acquire();
      await semaphore.release();
    }
  });
  const raw = new Value('i', 0, { lock: false });
  const rawAddRate = await rate(reps, ops / 2, async (count) => {
    for (let i = 0; i < count; i++) await raw.add(1);
  });
  const synchronized = new Value('i', 0);
  const synchronizedAddRate = await rate(reps, ops / 2, async (count) => {
    for (let i = 0; i < count; i++) await synchronized.add(1);
  });

  // Contended: workers of a pool increment one Value under one Lock.
  const workers = 4;
  const perWorker = options.quick ? 2_000 : 10_000;
  const pool = new Pool(workers);
  const shared = new Lock();
  const counter = new Value('i', 0);
  let contendedRate: number;
  try {
    contendedRate = await rate(reps, workers * perWorker, async () => {
      await Promise.all(Array.from({ length: workers }, () => pool.apply(benchLockedIncrements, [shared, counter, perWorker])));
    });
  } finally {
    await pool.terminate();
  }

  return [
    {
      title: 'sync: locks and shared values (local backend)',
      rows: [
        benchRow({
          metric: 'Lock acquire()+release(), uncontended',
          unit: 'ops/s',
          ours: lockRate,
          peer,
          peerName,
          target: { of: 'ours', atLeast: 1_000_000 },
          note: 'await lock.acquire(); await lock.release();',
        }),
        benchRow({ metric: 'RLock acquire()+release(), uncontended', unit: 'ops/s', ours: rlockRate, peer, peerName }),
        benchRow({ metric: 'Semaphore acquire()+release(), uncontended', unit: 'ops/s', ours: semaphoreRate, peer, peerName }),
        benchRow({ metric: "Value('i', { lock: false }).add(1)", unit: 'ops/s', ours: rawAddRate }),
        benchRow({ metric: "Value('i').add(1) (takes its RLock)", unit: 'ops/s', ours: synchronizedAddRate }),
        benchRow({
          metric: `${workers} pool workers × ${perWorker} locked get+set increments`,
          unit: 'increments/s',
          ours: contendedRate,
          note: 'one Lock, one Value; includes the pool round trip',
        }),
      ],
      notes: [
        'The uncontended path is one synchronous compare-and-swap and an already resolved promise; contended waits use Atomics.waitAsync.',
      ],
    },
  ];
}

// Run alone: print the table.
if (import.meta.url === `file://${process.argv[1]}`) {
  const tables = await runSyncBench({ quick: process.argv.includes('--quick') });
  for (const table of tables) {
    console.log(table.title);
    console.table(
      table.rows.map((r) => ({
        metric: r.metric,
        ours: `${Math.round(r.ours).toLocaleString('en-US')} ${r.unit}`,
        peer: r.peer === undefined ? '' : Math.round(r.peer).toLocaleString('en-US'),
        ratio: r.ratio === undefined ? '' : r.ratio.toFixed(3),
        target: r.target ? `${r.target.of} ≥ ${r.target.atLeast?.toLocaleString('en-US')}` : '',
        met: r.met === undefined ? '' : r.met ? 'yes' : 'NO',
      })),
    );
  }
}

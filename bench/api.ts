/**
 * The jobs API's bench, on the emulators started here, all in this process: a worker fleet, the
 * API handler behind the Function URL adapter (SigV4 checked), and a client that signs its
 * requests. A 1,000-item job submitted with `POST /jobs` and read with `GET .../results`, against
 * the same map through a Pool in the same run: time to the first result, and to all of them.
 *
 *   npm run bench -- --only api      (or: npx tsx bench/api.ts [--quick])
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Context } from 'fanout';
import { handler as workerHandler } from '../functions/worker/handler.js';
import { jobApiFor } from '../functions/api/handler.js';
import { AwsBackend } from '../lib/backends/aws/AwsBackend.js';
import type { AwsConfig } from '../lib/backends/aws/AwsConfig.js';
import { provisionResources, startEmulators } from '../lib/backends/aws/emulator.js';
import { runWorkerFleet } from '../lib/backends/aws/WorkerFleet.js';
import { FunctionUrlAdapter } from '../lib/http/FunctionUrlAdapter.js';
import { SigV4Verifier } from '../lib/http/SigV4Verifier.js';
import { signedFetch } from '../lib/http/signedFetch.js';
import { benchSquare } from './awsTasks.js';
import { benchRow, renderText, toTextTables, type BenchOptions, type BenchTable } from './report.js';

const CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };
const TASKS = fileURLToPath(new URL('./awsTasks.ts', import.meta.url));
const ITEMS = 1000;
const THREADS = 2;
/** The pool's processes, and so its chunk size (⌈1,000 / 16⌉ = 63), which the API job is given too. */
const PROCESSES = 4;
const CHUNKSIZE = Math.ceil(ITEMS / (PROCESSES * 4));

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

interface Timing {
  firstMs: number;
  allMs: number;
}

/**
 * Runs the API bench (the `api` section of `npm run bench`) and returns its table.
 *
 * @example
 * ```ts
 * const tables = await runApiBench({ quick: true, full: false, reps: 2, cases: [] });
 * ```
 */
export async function runApiBench(options: BenchOptions): Promise<BenchTable[]> {
  const rounds = Math.max(3, options.quick ? 3 : options.reps * 2);
  const emulators = await startEmulators();
  const stop = new AbortController();
  let adapter: FunctionUrlAdapter | undefined;
  try {
    const config = await provisionResources(emulators.endpoints, { name: 'bench-api' });
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = () => resolve()));
    const fleet = runWorkerFleet({
      config,
      handler: workerHandler,
      threads: THREADS,
      concurrency: THREADS * 2,
      waitTimeSeconds: 2,
      tasks: [TASKS],
      signal: stop.signal,
      onReady: ready,
    });
    await Promise.race([started, fleet]);
    const api = jobApiFor(new AwsBackend({ config }));
    adapter = await FunctionUrlAdapter.start({
      verifier: new SigV4Verifier({ credentials: [CREDENTIALS], region: config.region }),
      handler: (event) => api.handle(event),
    });
    const url = adapter.url;
    const context = new Context(new AwsBackend({ config }));
    const pool = new context.Pool(PROCESSES);
    const items = Array.from({ length: ITEMS }, (_, i) => i);
    const expected = items.map((x) => x * x);
    const viaPool: Timing[] = [];
    const viaImap: number[] = [];
    const viaApi: Timing[] = [];
    // A warm-up of each path first: threads started, connections open.
    await pool.map(benchSquare, items.slice(0, 20));
    await viaHttp(url, config, items.slice(0, 20), CHUNKSIZE);
    for (let round = 0; round < rounds; round++) {
      let begin = performance.now();
      const results = await pool.map(benchSquare, items);
      viaPool.push({ firstMs: performance.now() - begin, allMs: performance.now() - begin });
      check(results, expected, 'pool.map');
      begin = performance.now();
      for await (const value of pool.imap(benchSquare, items, { chunksize: CHUNKSIZE })) {
        viaImap.push(performance.now() - begin);
        void value;
        break;
      }
      const timing = await viaHttp(url, config, items, CHUNKSIZE, expected);
      viaApi.push(timing);
    }
    pool.close();
    await pool.join();
    const first = median(viaApi.map((timing) => timing.firstMs));
    const all = median(viaApi.map((timing) => timing.allMs));
    const table: BenchTable = {
      title: `jobs API (emulated): a ${ITEMS.toLocaleString('en')}-item job over signed HTTP vs the same map through a Pool`,
      rows: [
        benchRow({
          metric: 'API submit → first result p50',
          unit: 'ms',
          ours: first,
          peer: median(viaImap),
          peerName: 'pool.imap first result',
          note: `POST /jobs, then GET /jobs/{id}/results until a page has results (chunksize ${CHUNKSIZE} on both sides)`,
        }),
        benchRow({
          metric: 'API submit → every result p50',
          unit: 'ms',
          ours: all,
          peer: median(viaPool.map((timing) => timing.allMs)),
          peerName: 'pool.map',
          target: { of: 'ratio', atMost: 1.3 },
          note: 'the issue’s goal: the API within 1.3× of the same map through pool.map',
        }),
        benchRow({
          metric: 'API submit → first result vs pool.map',
          unit: 'ms',
          ours: first,
          peer: median(viaPool.map((timing) => timing.allMs)),
          peerName: 'pool.map (all results)',
          target: { of: 'ratio', atMost: 1.3 },
          note: 'the issue’s figure as worded: submit → first result, over the same map through pool.map',
        }),
      ],
      notes: [
        `In one process: fauxqs, dynalite, a worker fleet of ${THREADS} threads, the API handler behind the Function URL ` +
          `adapter (SigV4 checked on every request), and the client; medians of ${rounds} rounds.`,
        'The API client polls its results as the pool does (15 ms after submitting, then 10 ms doubling to 500 ms while nothing comes).',
      ],
    };
    return [table];
  } finally {
    await adapter?.stop();
    stop.abort();
    await emulators.stop();
  }
}

/** Submits a job over the API and reads its pages until the last, polling as the pool does. */
async function viaHttp(url: string, config: AwsConfig, items: number[], chunksize: number, expected?: number[]): Promise<Timing> {
  const signing = { region: config.region, credentials: CREDENTIALS };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await signedFetch(`${url}${path}`, {
      ...signing,
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const begin = performance.now();
  const { jobId } = await call<{ jobId: string }>('POST', '/jobs', { task: benchSquare.name, items, chunksize });
  const results: unknown[] = [];
  let firstMs: number | undefined;
  let next: string | undefined;
  let delay = 10;
  await new Promise((resolve) => setTimeout(resolve, 15));
  for (;;) {
    const page = await call<{ results: unknown[]; next?: string; waiting: boolean }>(
      'GET',
      `/jobs/${jobId}/results${next ? `?next=${encodeURIComponent(next)}` : ''}`,
    );
    if (page.results.length > 0) firstMs ??= performance.now() - begin;
    results.push(...page.results);
    if (page.next === undefined) break;
    next = page.next;
    if (!page.waiting) continue;
    delay = page.results.length > 0 ? 10 : Math.min(500, delay * 2);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  const allMs = performance.now() - begin;
  if (expected) check(results, expected, 'the API');
  return { firstMs: firstMs ?? allMs, allMs };
}

function check(results: unknown[], expected: number[], path: string): void {
  if (results.length !== expected.length || results.some((value, i) => value !== expected[i]))
    throw new Error(`${path} returned wrong results`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const tables = await runApiBench({ quick, full: false, reps: quick ? 2 : 5, cases: [] });
  for (const table of toTextTables('api', tables)) console.log(renderText(table));
}

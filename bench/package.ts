/**
 * The package benchmark: fanout as a user installs it from npm (compiled, packed with `npm pack`,
 * unpacked into a fresh project outside the repository) against the targets of issue 7. Every
 * measurement runs in fresh child processes, so that nothing else this harness did counts;
 * contestants take turns in each round (bench/stats.ts `rounds`), and every figure is a median
 * over the rounds. The programs are in bench/package/.
 *
 * Cases: memory (imap over 10M items: JavaScript tasks under plain node, TypeScript tasks under
 * tsx, and today's route, the sources under tsx), latency (one-at-a-time `apply` vs piscina),
 * cold (process start to the first result vs piscina, and where the time goes), install (the
 * tarball and its runtime dependency closure on disk).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dependencyClosure, directorySize, type InstalledPackage } from './package/installSize.js';
import { staticModuleGraph } from './package/moduleGraph.js';
import { packFanout, REPO_ROOT, type PackedFanout } from './package/packedFanout.js';
import { benchRow, formatNumber, type BenchOptions, type BenchRow, type BenchTable } from './report.js';
import { median, rounds } from './stats.js';

const PACKAGE_CASES = ['memory', 'latency', 'cold', 'install'] as const;
type PackageCase = (typeof PACKAGE_CASES)[number];

/** Workers on each side, as in bench/pool.ts. */
const WORKERS = 2;
/** Packages a user who never deploys must not get: the CDK, esbuild, the emulators, TypeScript and its loader. */
const DEPLOY_ONLY = [
  'aws-cdk',
  'aws-cdk-lib',
  '@aws-cdk/*',
  'constructs',
  'cdk-nag',
  'esbuild',
  '@esbuild/*',
  'fauxqs',
  'dynalite',
  'tsx',
  'typescript',
];

function isDeployOnly(name: string): boolean {
  return DEPLOY_ONLY.some((banned) => (banned.endsWith('/*') ? name.startsWith(banned.slice(0, -1)) : name === banned));
}
/** The piscina peer's main-thread and thread imports (its files, in the project's node_modules). */
const PISCINA_WORKER_SCRIPT = 'node_modules/piscina/dist/worker.js';

function sizes(options: BenchOptions) {
  if (options.quick) return { imapItems: 100_000, roundTrips: 100, warmupCalls: 20, coldRuns: options.reps };
  // At least 11 cold starts a side: a process start is noisy on a shared machine.
  return { imapItems: 10_000_000, roundTrips: 2_000, warmupCalls: 200, coldRuns: Math.max(11, options.reps) };
}

/**
 * Runs the package benchmark and returns its tables.
 *
 * @example
 * ```ts
 * const tables = await runPackageBench({ quick: false, full: false, reps: 5, cases: [] });
 * ```
 */
export async function runPackageBench(options: BenchOptions): Promise<BenchTable[]> {
  const unknown = options.cases.filter((name) => !(PACKAGE_CASES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new RangeError(`bench package: unknown case(s) ${unknown.join(', ')}; the cases are ${PACKAGE_CASES.join(', ')}`);
  }
  const wanted = (name: PackageCase) => options.cases.length === 0 || options.cases.includes(name);
  const size = sizes(options);
  const scratch = mkdtempSync(join(tmpdir(), 'fanout-bench-package-'));
  try {
    progress('building fanout (tsc -p tsconfig.build.json), npm pack, installing the tarball into a fresh project');
    const fanout = await packFanout(scratch);
    const tables: BenchTable[] = [];
    if (wanted('memory')) tables.push(await benchMemory(fanout, options.reps, size.imapItems));
    if (wanted('latency')) tables.push(await benchRoundTrip(fanout, options.reps, size.roundTrips, size.warmupCalls));
    if (wanted('cold')) tables.push(...(await benchColdStart(fanout, size.coldRuns)));
    if (wanted('install')) tables.push(...benchInstallSize(fanout));
    return tables;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function progress(message: string): void {
  process.stderr.write(`[bench package] ${message}\n`);
}

const millions = (count: number) => (count >= 1e6 ? `${count / 1e6}M` : count >= 1e3 ? `${count / 1e3}k` : String(count));

/** The environment of the measured programs: the harness's runner settings must not reach them. */
function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: '', FANOUT_BACKEND: '', FANOUT_PROCESSES: '', VITEST: '' };
}

/** Runs `node ...args` in `cwd`, and returns the JSON object it printed last. */
function runJson<T>(args: readonly string[], cwd: string, timeoutMs = 300_000): Promise<T> {
  const what = `node ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        return reject(new Error(`bench package: ${what} (in ${cwd}) ended with ${signal ?? `code ${code}`}:\n${stderr}`));
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as T);
      } catch {
        reject(new Error(`bench package: ${what} printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
  });
}

interface ImapMemory {
  items: number;
  ms: number;
  startRssMB: number;
  peakRssMB: number;
  maxRssMB: number;
}

/** Memory: imap over a generator, three routes, each run in a fresh process, in turns. */
async function benchMemory(fanout: PackedFanout, reps: number, items: number): Promise<BenchTable> {
  progress(`(memory) imap over a ${millions(items)}-item generator, 3 routes, ${reps} rounds + warm-up, fresh processes`);
  const args = ['--items', String(items), '--processes', String(WORKERS)];
  const samples = await rounds(reps, {
    js: () => runJson<ImapMemory>(['programs/imapMemory.mjs', ...args], fanout.project),
    ts: () => runJson<ImapMemory>(['--import', 'tsx', 'programs/imapMemory.ts', ...args], fanout.project),
    sources: () => runJson<ImapMemory>(['--import', 'tsx', 'bench/imapMemory.ts', ...args], REPO_ROOT),
  });
  const of = (side: ImapMemory[], figure: (run: ImapMemory) => number) => median(side.map(figure));
  const peak = (run: ImapMemory) => run.peakRssMB;
  const maxRss = (run: ImapMemory) => run.maxRssMB;
  const start = (run: ImapMemory) => run.startRssMB;
  const rate = (run: ImapMemory) => (run.items / run.ms) * 1000;
  const today = 'sources under tsx (today)';
  const routes = [
    { key: 'js', label: 'JS tasks, plain node', limit: 200 },
    { key: 'ts', label: 'TS tasks under tsx', limit: 230 },
  ] as const;
  const rows: BenchRow[] = [];
  for (const { key, label, limit } of routes) {
    rows.push(
      benchRow({
        metric: `peak RSS, ${label} (sampled every 10 ms)`,
        unit: 'MB',
        ours: of(samples[key], peak),
        peer: of(samples.sources, peak),
        peerName: today,
        target: { of: 'ours', atMost: limit },
      }),
      benchRow({
        metric: `peak RSS, ${label} (kernel high-water mark)`,
        unit: 'MB',
        ours: of(samples[key], maxRss),
        peer: of(samples.sources, maxRss),
        peerName: today,
        target: { of: 'ours', atMost: limit },
      }),
    );
  }
  rows.push(
    benchRow({ metric: `peak RSS, ${today}, baseline (sampled)`, unit: 'MB', ours: of(samples.sources, peak) }),
    benchRow({ metric: `peak RSS, ${today}, baseline (kernel high-water mark)`, unit: 'MB', ours: of(samples.sources, maxRss) }),
  );
  for (const { key, label } of routes) {
    rows.push(
      benchRow({
        metric: `RSS before the pool started, ${label}`,
        unit: 'MB',
        ours: of(samples[key], start),
        peer: of(samples.sources, start),
        peerName: today,
      }),
    );
  }
  for (const { key, label } of routes) {
    rows.push(
      benchRow({
        metric: `imap throughput, ${label}`,
        unit: 'items/s',
        ours: of(samples[key], rate),
        peer: of(samples.sources, rate),
        peerName: today,
      }),
    );
  }
  return {
    title: `Memory: imap over a ${millions(items)}-item generator (${WORKERS} workers), median of ${reps} runs a route, each in a fresh process`,
    rows,
    notes: [
      'RSS of the whole process (main thread, both workers, any loader threads), MB = 10^6 bytes; the kernel high-water mark is ru_maxrss, which no sampling can miss. Results summed and checked.',
      'JS tasks: `node programs/imapMemory.mjs` in a project with the packed fanout installed, tasks in a .mjs module, no TypeScript loader anywhere.',
      'TS tasks: `node --import tsx programs/imapMemory.ts` in that project (program and task module in .ts, fanout compiled); the workers inherit tsx.',
      "Today (the peer and the baseline rows): `node --import tsx bench/imapMemory.ts` in this checkout, fanout's TypeScript sources (as bench/pool.ts measures it).",
      `Range over the runs (kernel high-water mark): JS tasks ${spread(samples.js.map(maxRss))} MB, TS tasks ${spread(samples.ts.map(maxRss))} MB, today ${spread(samples.sources.map(maxRss))} MB.`,
    ],
  };
}

interface Latency {
  p50: number;
  p99: number;
}

/** One-at-a-time round trips: fanout's apply vs piscina's run (and the raw floor), fresh processes. */
async function benchRoundTrip(fanout: PackedFanout, reps: number, calls: number, warmup: number): Promise<BenchTable> {
  progress(`(latency) ${calls} one-at-a-time calls a run, ${reps} runs + warm-up a side, fresh processes`);
  const side = (name: string) => () =>
    runJson<Latency>(
      ['programs/roundTrip.mjs', '--side', name, '--calls', String(calls), '--warmup', String(warmup)],
      fanout.project,
    );
  const samples = await rounds(reps, { ours: side('fanout'), piscina: side('piscina'), raw: side('raw') });
  const p50 = (runs: Latency[]) => median(runs.map((run) => run.p50));
  const p99 = (runs: Latency[]) => median(runs.map((run) => run.p99));
  const floor = 'raw postMessage ping-pong (the floor)';
  return {
    title: `Round trip: apply one call at a time on the compiled package, plain node (${calls} calls a run, median of ${reps} runs)`,
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
      benchRow({ metric: 'round trip p50', unit: 'µs', ours: p50(samples.ours), peer: p50(samples.raw), peerName: floor }),
    ],
    notes: [
      `Each run is a fresh process for one side (programs/roundTrip.mjs): ${WORKERS} workers, ${warmup} calls not counted, then ${calls} sequential calls; ` +
        'p50 and p99 per run, then the median over runs. The sides take turns. Ratio = ours / peer (lower is better).',
      `Range of p50 over the runs: fanout ${spread(samples.ours.map((run) => run.p50))} µs, piscina ${spread(samples.piscina.map((run) => run.p50))} µs; ` +
        `ratio per run (fanout / piscina of the same round) ${spread(samples.ours.map((run, round) => run.p50 / samples.piscina[round]!.p50))}.`,
    ],
  };
}

/**
 * What a cold-start program prints: `ms`, and for a thread (programs/startupParts.mjs thread)
 * the ms from `new Worker` to its first statement and those of each import in it.
 */
interface StartSample {
  ms: number;
  startMs?: number;
  importMs?: number[];
}

/**
 * Cold start: a program's first result, from process start, against piscina's; then the parts
 * of it (node's start, the imports in the main thread and in a thread, a thread's start), each
 * alone in fresh processes, and what bundling fanout into one file changes.
 */
async function benchColdStart(fanout: PackedFanout, runs: number): Promise<BenchTable[]> {
  const project = fanout.project;
  progress('(cold) bundling the cold-start program and fanout with esbuild');
  const bundles = await buildBundles(project);
  progress(`(cold) first results and their parts, ${runs} rounds + warm-up, 13 fresh processes a round`);
  const url = (path: string) => pathToFileURL(join(project, path)).href;
  const runtime = url('node_modules/fanout/dist/lib/runtime/startWorkerThread.js');
  const piscinaThread = [url(PISCINA_WORKER_SCRIPT), url('piscinaWorker.mjs')];
  const timed = (args: string[]) => () => runJson<StartSample>(args, project, 120_000);
  const thread = (specs: string[]) => timed(['programs/startupParts.mjs', 'thread', ...specs]);
  const samples = await rounds(runs, {
    map: timed(['programs/coldStart.mjs', 'map']),
    apply: timed(['programs/coldStart.mjs', 'apply']),
    piscina: timed(['programs/coldStartPiscina.mjs']),
    oneFile: timed([bundles.oneFile.entry]),
    split: timed([bundles.split.entry]),
    boot: timed(['programs/startupParts.mjs', 'boot']),
    importFanout: timed(['programs/startupParts.mjs', 'import', 'fanout', './tasks.mjs']),
    importBundle: timed(['programs/startupParts.mjs', 'import', pathToFileURL(bundles.library.entry).href]),
    importPiscina: timed(['programs/startupParts.mjs', 'import', 'piscina']),
    emptyThread: thread([]),
    fanoutThread: thread([runtime, 'fanout', './tasks.mjs']),
    bundleThread: thread([pathToFileURL(bundles.library.entry).href]),
    piscinaThread: thread(piscinaThread),
  });

  const msOf = (sample: StartSample) => sample.ms;
  const ms = (side: StartSample[]) => median(side.map(msOf));
  const threadStart = (sample: StartSample) => sample.startMs ?? NaN;
  const imported = (sample: StartSample, from: number, to?: number) =>
    (sample.importMs ?? [NaN]).slice(from, to).reduce((sum, part) => sum + part, 0);
  const piscina = ms(samples.piscina);
  const versusPiscina = (metric: string, ours: StartSample[], target = false): BenchRow =>
    benchRow({
      metric,
      unit: 'ms',
      ours: ms(ours),
      peer: piscina,
      peerName: `piscina, first run (${WORKERS} threads)`,
      ...(target ? { target: { of: 'ratio' as const, atMost: 1 } } : {}),
    });
  const firstResults: BenchTable = {
    title: `Cold start: process start → first result printed, ${WORKERS} workers, plain node (median of ${runs} fresh processes a side)`,
    rows: [
      versusPiscina(`first map result, compiled package`, samples.map, true),
      versusPiscina(`first apply result (one worker needed), compiled package`, samples.apply),
      versusPiscina('first map result, program + fanout bundled by esbuild into one file', samples.oneFile),
      versusPiscina('first map result, bundled by esbuild with splitting (aws backend in lazy chunks)', samples.split),
    ],
    notes: [
      "Time = performance.now() in the program when the result is in: ms since the process's time origin, so node's own start counts alike on both sides.",
      `fanout: programs/coldStart.mjs — import { Pool } from 'fanout', the task from programs/tasks.mjs, new Pool(${WORKERS}), await pool.map(addOne, [1, 2]) (both workers start; each gets one item). ` +
        `piscina: programs/coldStartPiscina.mjs — new Piscina({ minThreads: ${WORKERS}, maxThreads: ${WORKERS} }) on bench/piscinaWorker.mjs, await run(1).`,
      'Bundled: programs/coldStartBundled.mjs (the same program, main code guarded by isFanoutThread()) bundled with esbuild (bundle, format esm, platform node): ' +
        `once into one file (fanout's bundled-app route; the AWS SDK is inlined: ${kB(bundles.oneFile.startBytes)} kB), ` +
        `once with splitting, which leaves the aws backend in chunks loaded only when used (${kB(bundles.split.startBytes)} kB in ${bundles.split.startFiles} files load at start). ` +
        "A bundle is its own threads' script.",
      'Ratio = ours / piscina; below 1 beats piscina. ' +
        `Range over the runs: compiled map ${spread(samples.map.map(msOf))} ms, apply ${spread(samples.apply.map(msOf))} ms, one file ${spread(samples.oneFile.map(msOf))} ms, ` +
        `splitting ${spread(samples.split.map(msOf))} ms, piscina ${spread(samples.piscina.map(msOf))} ms.`,
    ],
  };

  const main = staticModuleGraph([join(fanout.packageDir, 'dist/lib/index.js')]);
  const worker = staticModuleGraph([join(fanout.packageDir, 'dist/lib/runtime/workerThread.js')]);
  const extra = [...main].filter((file) => !worker.has(file)).length;
  const piscinaMain = staticModuleGraph([join(project, 'node_modules/piscina/dist/esm-wrapper.mjs')]);
  const piscinaWorker = staticModuleGraph([join(project, PISCINA_WORKER_SCRIPT)]);
  const piscinaImports = median(samples.piscinaThread.map((sample) => imported(sample, 0)));
  const piscinaImport = ms(samples.importPiscina);
  const piscinaThreadName = `piscina's thread: worker.js (${piscinaWorker.size} files) + the task file`;
  const parts: BenchTable = {
    title: `Cold start: where the time goes — each part alone, median of ${runs} fresh processes`,
    rows: [
      benchRow({ metric: "node start → the program's first statement (the same for both)", unit: 'ms', ours: ms(samples.boot) }),
      benchRow({
        metric: `main thread: import 'fanout' (${main.size} modules) and the task module`,
        unit: 'ms',
        ours: ms(samples.importFanout),
        peer: piscinaImport,
        peerName: `import 'piscina' (${piscinaMain.size} files)`,
      }),
      benchRow({
        metric: 'main thread: import fanout bundled by esbuild (aws backend in lazy chunks)',
        unit: 'ms',
        ours: ms(samples.importBundle),
        peer: piscinaImport,
        peerName: `import 'piscina' (${piscinaMain.size} files)`,
      }),
      benchRow({
        metric: 'a thread: new Worker → first statement of an empty script (the same for both)',
        unit: 'ms',
        ours: median(samples.emptyThread.map(threadStart)),
      }),
      benchRow({
        metric: `a thread: fanout's worker runtime (${worker.size} modules)`,
        unit: 'ms',
        ours: median(samples.fanoutThread.map((sample) => imported(sample, 0, 1))),
      }),
      benchRow({
        metric: `a thread: then the task module's import 'fanout' (${extra} more modules) and the task module`,
        unit: 'ms',
        ours: median(samples.fanoutThread.map((sample) => imported(sample, 1))),
      }),
      benchRow({
        metric: "a thread: all of fanout's thread imports",
        unit: 'ms',
        ours: median(samples.fanoutThread.map((sample) => imported(sample, 0))),
        peer: piscinaImports,
        peerName: piscinaThreadName,
      }),
      benchRow({
        metric: "a thread: fanout's thread imports, bundled by esbuild (aws backend in lazy chunks)",
        unit: 'ms',
        ours: median(samples.bundleThread.map((sample) => imported(sample, 0))),
        peer: piscinaImports,
        peerName: piscinaThreadName,
      }),
    ],
    notes: [
      'programs/startupParts.mjs, one part per process: `boot` (performance.now() at the first statement), `import SPEC...` (await import, timed), `thread SPEC...` (new Worker, then each SPEC imported in the thread, timed there).',
      'Module counts: the static import graph of the compiled files (dynamic imports such as the aws backend left out).',
      `Compiled files loaded: ${kB(bytesOf(main))} kB in the main thread, ${kB(bytesOf(worker))} kB (+${kB(bytesOf([...main].filter((file) => !worker.has(file))))} kB through the task module) in a thread, comments and doc examples included.`,
      "Bundled: esbuild's bundle of fanout's index and worker runtime together, with splitting (the aws backend stays in chunks loaded only when used): " +
        `the shape a bundled dist would have; ${kB(bundles.library.startBytes)} kB in ${bundles.library.startFiles} file(s) load at start, in the main thread and in a thread alike.`,
      'The parts run alone: in a real start the two threads start and import at the same time, on 2 cores shared with the main thread, so the parts do not add up to the first result.',
    ],
  };
  return [firstResults, parts];
}

/** A bundle esbuild wrote: its entry file, and the bytes loaded at start (the entry and the chunks it imports statically). */
interface Bundle {
  entry: string;
  startBytes: number;
  startFiles: number;
}

/** The esbuild bundles of the cold-start case, built in the project from its installed fanout. */
async function buildBundles(project: string): Promise<{ oneFile: Bundle; split: Bundle; library: Bundle }> {
  const { build } = await import('esbuild');
  const common = {
    absWorkingDir: project,
    bundle: true,
    format: 'esm',
    platform: 'node',
    logLevel: 'error',
    metafile: true,
  } as const;
  const bundle = async (entry: string, output: { outfile: string } | { outdir: string; splitting: true }): Promise<Bundle> => {
    const { metafile } = await build({ ...common, entryPoints: [entry], ...output });
    const entryOutput = Object.keys(metafile.outputs).find((file) => metafile.outputs[file]!.entryPoint === entry)!;
    // What loads before the program runs: the entry and its static imports, not its dynamic ones.
    const loaded = new Set<string>();
    const pending = [entryOutput];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (loaded.has(file)) continue;
      loaded.add(file);
      for (const imported of metafile.outputs[file]!.imports)
        if (imported.kind === 'import-statement' && !imported.external) pending.push(imported.path);
    }
    const startBytes = [...loaded].reduce((sum, file) => sum + metafile.outputs[file]!.bytes, 0);
    return { entry: join(project, entryOutput), startBytes, startFiles: loaded.size };
  };
  const oneFile = await bundle('programs/coldStartBundled.mjs', { outfile: 'bundles/one/coldStart.mjs' });
  const split = await bundle('programs/coldStartBundled.mjs', { outdir: 'bundles/split', splitting: true });
  // fanout's index and its worker runtime in one module, as a bundled dist would ship them.
  writeFileSync(
    join(project, 'programs/fanoutBundle.mjs'),
    "export * from 'fanout';\nexport { startWorkerThread } from '../node_modules/fanout/dist/lib/runtime/startWorkerThread.js';\n",
  );
  const library = await bundle('programs/fanoutBundle.mjs', { outdir: 'bundles/library', splitting: true });
  return { oneFile, split, library };
}

const mb = (bytes: number) => bytes / 1e6;

/** The smallest and largest of some figures, `a–b`, three significant digits each. */
function spread(values: readonly number[]): string {
  return `${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))}`;
}
const kB = (bytes: number) => Math.round(bytes / 1e3);

/** The bytes of some files. */
function bytesOf(files: Iterable<string>): number {
  let bytes = 0;
  for (const file of files) bytes += statSync(file).size;
  return bytes;
}

/** Install size: the unpacked tarball and its runtime dependency closure, against piscina's install. */
function benchInstallSize(fanout: PackedFanout): BenchTable[] {
  progress('(install) the unpacked tarball and its runtime dependency closure');
  const own = directorySize(fanout.packageDir);
  const closure = dependencyClosure(fanout.packageDir);
  const piscinaDir = join(fanout.project, 'node_modules/piscina');
  const piscinaOwn = directorySize(piscinaDir);
  const piscinaClosure = dependencyClosure(piscinaDir);
  const total = (packages: InstalledPackage[], figure: 'bytes' | 'diskBytes') =>
    packages.reduce((sum, installed) => sum + installed[figure], 0);
  const deployOnly = closure.packages.filter((installed) => isDeployOnly(installed.name));
  const piscinaName = `piscina ${piscinaOwn.files} files + ${piscinaClosure.packages.length} dependencies`;
  const summary: BenchTable = {
    title: `Install size for a user who never deploys: fanout's unpacked tarball + its runtime dependency closure`,
    rows: [
      benchRow({ metric: `fanout's unpacked tarball (${own.files} files), on disk`, unit: 'MB', ours: mb(own.diskBytes) }),
      benchRow({
        metric: `runtime dependency closure (${closure.packages.length} packages), on disk`,
        unit: 'MB',
        ours: mb(total(closure.packages, 'diskBytes')),
      }),
      benchRow({
        metric: 'install, on disk (du: allocated blocks)',
        unit: 'MB',
        ours: mb(own.diskBytes + total(closure.packages, 'diskBytes')),
        peer: mb(piscinaOwn.diskBytes + total(piscinaClosure.packages, 'diskBytes')),
        peerName: piscinaName,
      }),
      benchRow({
        metric: 'install, sum of file sizes',
        unit: 'MB',
        ours: mb(own.bytes + total(closure.packages, 'bytes')),
        peer: mb(piscinaOwn.bytes + total(piscinaClosure.packages, 'bytes')),
        peerName: piscinaName,
      }),
      benchRow({
        metric: 'CDK, esbuild, emulator or TypeScript packages in the closure',
        unit: '',
        ours: deployOnly.length,
        target: { of: 'ours', atMost: 0 },
        ...(deployOnly.length > 0 ? { note: deployOnly.map((installed) => installed.name).join(', ') } : {}),
      }),
    ],
    notes: [
      `The tarball is \`npm pack\` of this checkout's build; the closure walks \`dependencies\`, installed \`optionalDependencies\` and required \`peerDependencies\` recursively, as Node resolves them through this repository's node_modules, each package directory once.`,
      `Looked for and not wanted: ${DEPLOY_ONLY.join(', ')}.`,
      ...(closure.missing.length > 0 ? [`Required but not installed here: ${closure.missing.join(', ')}.`] : []),
    ],
  };
  const installedMB = mb(own.diskBytes + total(closure.packages, 'diskBytes'));
  const largest = [...closure.packages].sort((a, b) => b.diskBytes - a.diskBytes).slice(0, 8);
  const biggest: BenchTable = {
    title: 'Install size: the largest packages of the closure (on disk)',
    rows: largest.map((installed) =>
      benchRow({
        metric: `${installed.name}@${installed.version} (${installed.files} files)`,
        unit: 'MB',
        ours: mb(installed.diskBytes),
      }),
    ),
    notes: [
      `These ${largest.length} take ${((100 * mb(total(largest, 'diskBytes'))) / installedMB).toFixed(0)}% of the install (${closure.packages.length} packages in all).`,
    ],
  };
  return [summary, biggest];
}

/**
 * The benchmark harness (`npm run bench`). Runs every section it finds — `bench/<name>.ts`
 * exporting `run<Name>Bench(options)` — prints each section's tables, then all of them again as
 * markdown to paste into bench/RESULTS.md. A section whose file does not exist yet is skipped,
 * saying so.
 *
 *   npm run bench                          every section
 *   npm run bench -- --only pool           one section (or a comma-separated list)
 *   npm run bench -- --only pool --cases a,c
 *   npm run bench -- --quick               few repetitions, small sizes (a smoke test)
 *   npm run bench -- --full --reps 7       largest sizes, more rounds
 *   npm run bench -- --json out.json       also write the results as JSON
 */
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine, machineInfo, type MachineInfo } from './machine.js';
import { renderMarkdown, renderText, toTextTables, type BenchOptions, type TextTable } from './report.js';

/** The sections, in the order they run. */
const SECTIONS = ['pool', 'sync', 'queues', 'aws', 'package', 'awsSync', 'estimate', 'api'] as const;
const DEFAULT_REPS = 5;
const QUICK_REPS = 2;

const USAGE = `usage: npm run bench -- [--only ${SECTIONS.join('|')}[,...]] [--cases a,b,...] [--quick] [--full] [--reps N] [--json FILE]`;

interface SectionOutcome {
  name: string;
  status: 'ran' | 'missing' | 'failed';
  /** The section's own return value, as it gave it. */
  result?: unknown;
  tables?: TextTable[];
  error?: string;
}

interface Cli {
  sections: string[];
  options: BenchOptions;
  json: string | undefined;
}

function parseCli(argv: string[]): Cli {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', multiple: true },
      cases: { type: 'string' },
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      reps: { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const only = (values.only ?? []).flatMap((value) => value.split(',')).filter((name) => name !== '');
  const unknown = only.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new RangeError(`--only: unknown section(s) ${unknown.join(', ')}; the sections are ${SECTIONS.join(', ')}`);
  if (values.quick && values.full) throw new RangeError('--quick and --full contradict each other: pass one of them');
  let reps = values.quick ? QUICK_REPS : DEFAULT_REPS;
  if (values.reps !== undefined) {
    reps = Number(values.reps);
    if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`--reps: expected a whole number ≥ 1, got '${values.reps}'`);
  }
  return {
    sections: only.length > 0 ? SECTIONS.filter((name) => only.includes(name)) : [...SECTIONS],
    options: {
      quick: values.quick,
      full: values.full,
      reps,
      cases: (values.cases ?? '').split(',').filter((name) => name !== ''),
    },
    json: values.json,
  };
}

/** `pool` → `runPoolBench`. */
function entryName(section: string): string {
  return `run${section[0]!.toUpperCase()}${section.slice(1)}Bench`;
}

async function runSection(name: string, options: BenchOptions): Promise<SectionOutcome> {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(file)) {
    console.log(`== ${name}: skipped — bench/${name}.ts does not exist yet.\n`);
    return { name, status: 'missing' };
  }
  try {
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const entry = module[entryName(name)];
    if (typeof entry !== 'function')
      throw new TypeError(`bench/${name}.ts does not export a function ${entryName(name)}(options)`);
    const started = performance.now();
    const result: unknown = await entry(options);
    const tables = toTextTables(name, result);
    for (const table of tables) console.log(`${renderText(table)}\n`);
    console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
    return { name, status: 'ran', result, tables };
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.log(`== ${name}: FAILED\n${message}\n`);
    return { name, status: 'failed', error: message };
  }
}

function markdownReport(machine: MachineInfo, options: BenchOptions, outcomes: SectionOutcome[]): string {
  const lines = [
    `Run: ${describeMachine(machine)}`,
    '',
    `Medians of ${options.reps} rounds after a warm-up round${options.quick ? ' (--quick: small sizes, not for comparison)' : ''}; ` +
      `load average at the end ${loadavg()[0]!.toFixed(2)}.`,
  ];
  for (const outcome of outcomes) {
    lines.push('');
    if (outcome.status === 'missing') lines.push(`_${outcome.name}: not run (bench/${outcome.name}.ts does not exist yet)._`);
    else if (outcome.status === 'failed') lines.push(`_${outcome.name}: failed: ${outcome.error?.split('\n')[0]}_`);
    else lines.push(outcome.tables!.map(renderMarkdown).join('\n\n'));
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const machine = machineInfo();
  console.log(`fanout benchmarks — ${describeMachine(machine)}`);
  console.log(
    `${cli.options.reps} rounds after a warm-up${cli.options.quick ? ', --quick' : ''}${cli.options.full ? ', --full' : ''}\n`,
  );
  const outcomes: SectionOutcome[] = [];
  for (const name of cli.sections) outcomes.push(await runSection(name, cli.options));

  console.log('---- markdown (paste into bench/RESULTS.md) ----\n');
  console.log(markdownReport(machine, cli.options, outcomes));
  if (cli.json) {
    const sections = outcomes.map(({ name, status, result, error }) => ({ name, status, result, error }));
    writeFileSync(cli.json, `${JSON.stringify({ machine, options: cli.options, sections }, null, 2)}\n`);
  }
  const failed = outcomes.some((outcome) => outcome.status === 'failed');
  // Asked for by name but absent: say so by the exit code too.
  const missingOnly = cli.sections.length < SECTIONS.length && outcomes.some((outcome) => outcome.status === 'missing');
  return failed || missingOnly ? 1 : 0;
}

// Exit explicitly: a section may leave handles open (emulators, idle workers) after its report.
process.exit(await main());

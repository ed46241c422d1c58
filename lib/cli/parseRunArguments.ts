import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BackendName } from '../backend/Backend.js';
import type { HelpCommand, RunCommand } from './CliCommand.js';
import { parseOptions, type OptionSpec } from './parseOptions.js';
import { UsageError } from './UsageError.js';

/**
 * The backends `--backend` accepts.
 *
 * @example
 * ```ts
 * BACKEND_NAMES.includes('aws'); // true
 * ```
 */
export const BACKEND_NAMES: readonly BackendName[] = ['local', 'aws'];

/**
 * The options of `fanout run`, for its parser and its help.
 *
 * @example
 * ```ts
 * parseOptions(['job.ts', '-p', '2'], RUN_OPTIONS, 'run').values.get('processes'); // '2'
 * ```
 */
export const RUN_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'backend',
    short: 'b',
    type: 'string',
    valueName: 'local|aws',
    description: 'The backend of the default context (sets FANOUT_BACKEND). Default: FANOUT_BACKEND, else local.',
  },
  {
    name: 'processes',
    short: 'p',
    type: 'string',
    valueName: 'N',
    description: 'Workers of a Pool created without `processes` (sets FANOUT_PROCESSES). Default: the CPU count.',
  },
  { name: 'help', short: 'h', type: 'boolean', description: 'Show this help.' },
];

/**
 * Parses the arguments of `fanout run` (those after `run`): one program file, which must exist,
 * `--backend`, `--processes`, and the program's own arguments after `--`. `cwd` resolves a
 * relative file.
 *
 * @example
 * ```ts
 * parseRunArguments(['examples/main-job.ts', '--processes', '2']);
 * // { kind: 'run', file: '/repo/examples/main-job.ts', fileUrl: 'file:///repo/...', processes: 2, programArgs: [] }
 * ```
 */
export function parseRunArguments(args: readonly string[], cwd: string = process.cwd()): RunCommand | HelpCommand {
  const { values, positionals, afterTerminator } = parseOptions(args, RUN_OPTIONS, 'run');
  if (values.has('help')) return { kind: 'help', command: 'run' };
  if (positionals.length === 0) {
    throw new UsageError('missing-argument', "'fanout run' needs the program to run: fanout run <file>.", { command: 'run' });
  }
  if (positionals.length > 1) {
    const extra = positionals[1]!;
    throw new UsageError(
      'unexpected-argument',
      `'fanout run' takes one file; got also '${extra}'. Arguments for your program go after '--': ` +
        `fanout run ${positionals[0]!} -- ${positionals.slice(1).join(' ')}`,
      { command: 'run', value: extra },
    );
  }
  // The options first: a bad value is reported even when the file is missing too.
  const backend = values.get('backend');
  const processes = values.get('processes');
  const checked = {
    ...(backend !== undefined ? { backend: parseBackend(backend as string) } : {}),
    ...(processes !== undefined ? { processes: parseProcesses(processes as string) } : {}),
  };
  return { kind: 'run', ...programFile(positionals[0]!, cwd), ...checked, programArgs: afterTerminator };
}

function parseBackend(value: string): BackendName {
  const backend = BACKEND_NAMES.find((name) => name === value);
  if (!backend) {
    throw new UsageError(
      'invalid-value',
      `Option '--backend' must be one of ${BACKEND_NAMES.map((name) => `'${name}'`).join(', ')}; got '${value}'.`,
      { command: 'run', option: '--backend', value },
    );
  }
  return backend;
}

function parseProcesses(value: string): number {
  // Digits only: Number() would also take '', ' 2', '0x2', '1e1' and '2.0'.
  const processes = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(processes) || processes < 1) {
    throw new UsageError(
      'invalid-value',
      `Option '--processes' must be a whole number ≥ 1 (written in digits, like 4); got '${value}'.`,
      { command: 'run', option: '--processes', value },
    );
  }
  return processes;
}

/** The program's path and URL as Node's loader will see them (symbolic links resolved). */
function programFile(file: string, cwd: string): { file: string; fileUrl: string } {
  const absolute = resolve(cwd, file);
  let isFile: boolean;
  try {
    isFile = statSync(absolute).isFile();
  } catch {
    throw new UsageError('missing-file', `'fanout run': the file '${file}' does not exist (looked for ${absolute}).`, {
      command: 'run',
      value: file,
    });
  }
  if (!isFile) {
    throw new UsageError('missing-file', `'fanout run': '${file}' is not a file (${absolute}); give a .ts or .js program.`, {
      command: 'run',
      value: file,
    });
  }
  const real = realpathSync(absolute);
  return { file: real, fileUrl: pathToFileURL(real).href };
}

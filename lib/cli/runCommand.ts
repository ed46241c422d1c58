import { Option, type Command } from 'commander';
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import type { BackendName } from '../backend/Backend.js';
import type { CommandContext } from './CommandContext.js';
import { oneOf, wholeNumber } from './optionParsers.js';
import { runProgram } from './runProgram.js';
import { UsageError } from './UsageError.js';

const BACKEND_NAMES: readonly BackendName[] = ['local', 'aws'];

/**
 * Adds `fanout run <file> [--backend local|aws] [--processes N] [-- program arguments]`.
 *
 * @example
 * ```ts
 * addRunCommand(program, context);
 * ```
 */
export function addRunCommand(program: Command, context: CommandContext): void {
  program
    .command('run')
    .summary('Run a program (TypeScript or JavaScript) that uses fanout.')
    .description(
      'Imports <file> as the entry script: tasks must be defined in modules it imports, not in it ' +
        '(workers import a task’s module). --backend and --processes set FANOUT_BACKEND and ' +
        'FANOUT_PROCESSES for the program, so its default context and pools use them. Arguments ' +
        'after -- are the program’s own (process.argv.slice(2)).',
    )
    .usage('<file> [--backend local|aws] [--processes N] [-- program arguments]')
    .argument('<file>', 'the program: a .ts, .mts, .js or .mjs file')
    .addOption(
      new Option(
        '-b, --backend <local|aws>',
        'the backend of the default context (sets FANOUT_BACKEND; default: FANOUT_BACKEND, else local)',
      ).argParser(oneOf(BACKEND_NAMES)),
    )
    .addOption(
      new Option(
        '-p, --processes <N>',
        'workers of a Pool created without `processes` (sets FANOUT_PROCESSES; default: the CPU count)',
      ).argParser(wholeNumber(1)),
    )
    .action(async (file: string, options: { backend?: BackendName; processes?: number }) => {
      const command = { ...programFile(file, context.cwd), ...options, programArgs: [...context.passthrough] };
      try {
        await (context.services.runProgram ?? runProgram)(command);
      } catch (error) {
        // The program's own error: shown in full, stack and all, as node would.
        context.output.stderr.write(`fanout: ${command.file} failed:\n${inspect(error)}\n`);
        context.exitCode = 1;
      }
    });
}

/** The program's path and URL as Node's loader will see them (symbolic links resolved). */
function programFile(file: string, cwd: string): { file: string; fileUrl: string } {
  const absolute = resolve(cwd, file);
  let isFile: boolean;
  try {
    isFile = statSync(absolute).isFile();
  } catch {
    throw new UsageError(`the program '${file}' does not exist (looked for ${absolute}).`, {
      command: 'run',
      value: file,
    });
  }
  if (!isFile) {
    throw new UsageError(`the program '${file}' is not a file (${absolute}); give a .ts or .js program.`, {
      command: 'run',
      value: file,
    });
  }
  const real = realpathSync(absolute);
  return { file: real, fileUrl: pathToFileURL(real).href };
}

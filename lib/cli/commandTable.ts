import type { CliCommand } from './CliCommand.js';
import type { OptionSpec } from './parseOptions.js';
import { RUN_OPTIONS, parseRunArguments } from './parseRunArguments.js';

/** A `fanout` command: how it is described in help and how its arguments are parsed. */
export interface CommandDefinition {
  name: string;
  /** One line for the overview. */
  summary: string;
  /** The synopsis: `fanout run <file> [options] [-- args]`. */
  usage: string;
  /** A paragraph for `fanout <command> --help`. */
  description: string;
  /** The options, for help; empty when the command parses its arguments elsewhere. */
  options: readonly OptionSpec[];
  /** Turns the arguments after the command's name into a command; throws `UsageError`. */
  parse(args: readonly string[]): CliCommand;
}

/**
 * The commands of `fanout`, by name. Add a command by adding an entry here (and a case in
 * `main`'s dispatch).
 *
 * @example
 * ```ts
 * commandTable.get('run')?.parse(['job.ts']); // { kind: 'run', ... }
 * ```
 */
export const commandTable: ReadonlyMap<string, CommandDefinition> = new Map<string, CommandDefinition>([
  [
    'run',
    {
      name: 'run',
      summary: 'Run a program (TypeScript or JavaScript) that uses fanout.',
      usage: 'fanout run <file> [--backend local|aws] [--processes N] [-- program arguments]',
      description:
        'Imports <file> as the entry script: tasks must be defined in modules it imports, not in it ' +
        '(workers import a task’s module). --backend and --processes set FANOUT_BACKEND and ' +
        'FANOUT_PROCESSES for the program, so its default context and pools use them.',
      options: RUN_OPTIONS,
      parse: (args) => parseRunArguments(args),
    },
  ],
  [
    'worker',
    {
      name: 'worker',
      summary: 'Run a fleet of workers for the aws backend (its options: fanout worker --help).',
      usage: 'fanout worker [worker fleet options]',
      description:
        'Starts workers that take chunks from the aws backend’s queues. The arguments are passed to ' +
        'runWorkerFleet in lib/backends/aws/WorkerFleet.ts, which parses and documents them.',
      options: [],
      parse: (args) => ({ kind: 'worker', args: [...args] }),
    },
  ],
]);

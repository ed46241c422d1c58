import type { BackendName } from '../backend/Backend.js';

/** `fanout --help`, `fanout help [command]`, `fanout <command> --help`. */
export interface HelpCommand {
  kind: 'help';
  /** The command to describe; undefined for the overview. */
  command?: string;
}

/** `fanout --version`. */
export interface VersionCommand {
  kind: 'version';
}

/** `fanout run <file> [--backend local|aws] [--processes N] [-- program arguments]`. */
export interface RunCommand {
  kind: 'run';
  /** The program's absolute path, symbolic links resolved (as Node's module loader sees it). */
  file: string;
  /** `file` as a file: URL: the entry script where tasks must not be defined. */
  fileUrl: string;
  backend?: BackendName;
  processes?: number;
  /** Arguments after `--`, given to the program as `process.argv.slice(2)`. */
  programArgs: string[];
}

/** `fanout worker [arguments]`: the aws worker fleet; its arguments are the fleet's own. */
export interface WorkerCommand {
  kind: 'worker';
  args: string[];
}

/**
 * A parsed `fanout` command line. To add a command: add its interface here, an entry to
 * `commandTable`, and a case to `main`'s dispatch.
 *
 * @example
 * ```ts
 * const command: CliCommand = parseCommandLine(['run', 'job.ts', '--processes', '2']);
 * if (command.kind === 'run') console.log(command.processes); // 2
 * ```
 */
export type CliCommand = HelpCommand | VersionCommand | RunCommand | WorkerCommand;

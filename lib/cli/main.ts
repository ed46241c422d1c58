import { inspect } from 'node:util';
import type { CliCommand } from './CliCommand.js';
import { CommandUnavailableError } from './CommandUnavailableError.js';
import { commandTable } from './commandTable.js';
import { formatHelp } from './formatHelp.js';
import { packageVersion } from './packageVersion.js';
import { parseCommandLine } from './parseCommandLine.js';
import { runProgram } from './runProgram.js';
import { runWorkerCommand } from './runWorkerCommand.js';
import { UsageError } from './UsageError.js';

/** Where the CLI writes (the process's streams, or a buffer in tests). */
export interface CliOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * The `fanout` command: parses `argv` (the arguments after `fanout`), runs the command and
 * resolves to the exit code: 0 on success, 2 for a usage error (printed with the usage), 1 when
 * the program or command failed (its error printed in full).
 *
 * @example
 * ```ts
 * // bin/fanout.mjs
 * const code = await main(process.argv.slice(2));
 * if (code !== 0) process.exitCode = code;
 * ```
 */
export async function main(argv: readonly string[], output: CliOutput = process): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const definition = error.command === undefined ? undefined : commandTable.get(error.command);
    const help = definition ? `fanout ${definition.name} --help` : 'fanout --help';
    output.stderr.write(
      `fanout: ${error.message}\nUsage: ${definition?.usage ?? 'fanout <command> [options]'}\n(more: ${help})\n`,
    );
    return UsageError.exitCode;
  }
  try {
    switch (command.kind) {
      case 'help':
        output.stdout.write(formatHelp(commandTable, command.command ? commandTable.get(command.command) : undefined));
        return 0;
      case 'version':
        output.stdout.write(`fanout ${packageVersion()}\n`);
        return 0;
      case 'run':
        await runProgram(command);
        return 0;
      case 'worker':
        return await runWorkerCommand(command.args);
      default:
        return unreachable(command);
    }
  } catch (error) {
    if (error instanceof CommandUnavailableError) {
      output.stderr.write(`fanout: ${error.message}\n`);
    } else {
      const where = command.kind === 'run' ? `${command.file} failed` : `'fanout ${command.kind}' failed`;
      output.stderr.write(`fanout: ${where}:\n${inspect(error)}\n`);
    }
    return 1;
  }
}

function unreachable(command: never): never {
  throw new Error(`fanout: no handler for command ${JSON.stringify(command)}`);
}

import { CommanderError, type Command } from 'commander';
import type { CliOutput, CliServices, CommandContext } from './CommandContext.js';
import { createProgram } from './createProgram.js';
import { UsageError } from './UsageError.js';

export type { CliOutput, CliServices } from './CommandContext.js';

/**
 * The `fanout` command: parses `argv` (the arguments after `fanout`), runs the command and
 * resolves to the exit code: 0 on success, 2 for a usage error (one line naming the option, the
 * value and what is allowed, then the command's usage), 1 when the program or command failed.
 * Everything after the first `--` is passed on untouched: to the program (`run`) or to the CDK
 * CLI (`synth`, `deploy`, `destroy`). `services` replaces what a test cannot run for real.
 *
 * @example
 * ```ts
 * // bin/fanout.mjs
 * const code = await main(process.argv.slice(2));
 * if (code !== 0) process.exitCode = code;
 * ```
 */
export async function main(argv: readonly string[], output: CliOutput = process, services: CliServices = {}): Promise<number> {
  const terminator = argv.indexOf('--');
  const own = terminator < 0 ? [...argv] : argv.slice(0, terminator);
  const context: CommandContext = {
    output,
    services,
    cwd: services.cwd ?? process.cwd(),
    passthrough: terminator < 0 ? [] : argv.slice(terminator + 1),
    exitCode: 0,
  };
  let command: Command | undefined;
  const program = createProgram(context, (active) => (command = active));
  const names = program.commands.map((sub) => sub.name()).filter((name) => name !== 'help');
  if (own.length === 0) {
    return usageError(output, program, undefined, `give a command: ${names.join(', ')} (or --help, --version).`);
  }
  // Commander answers help about an unknown command with the overview; say what is wrong instead.
  if (own[0] === 'help' && own[1] !== undefined && !names.includes(own[1])) {
    return usageError(output, program, undefined, `unknown command '${own[1]}'. Commands: ${names.join(', ')}.`);
  }
  try {
    await program.parseAsync(own, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // `fanout help [command]` shows the help and ends with this code.
      if (error.code === 'commander.help' && error.exitCode === 0) return 0;
      return usageError(output, program, command, describe(error, command ?? program));
    }
    if (error instanceof UsageError) return usageError(output, program, command, error.message);
    throw error;
  }
}

/** Commander's message, without its `error: ` prefix, with a hint where one helps. */
function describe(error: CommanderError, command: Command): string {
  // One line: commander puts its "(Did you mean --threads?)" on a line of its own.
  const message = error.message.replace(/^error: /, '').replace(/\n/g, ' ');
  const sentence = /[.?)]$/.test(message) ? message : `${message}.`;
  switch (error.code) {
    case 'commander.unknownCommand':
      return `${sentence} Commands: ${command.commands
        .map((sub) => sub.name())
        .filter((name) => name !== 'help')
        .join(', ')}.`;
    case 'commander.unknownOption':
    case 'commander.excessArguments':
      if (command.name() === 'run') return `${sentence} Arguments for your program go after '--': fanout run <file> -- ...`;
      if (command.parent === null) return `${sentence} A command's options go after it: fanout <command> [options].`;
      return sentence;
    default:
      return sentence;
  }
}

function usageError(output: CliOutput, program: Command, command: Command | undefined, message: string): number {
  const usage = command ? `fanout ${command.name()} ${command.usage()}` : `fanout ${program.usage()}`;
  const help = command ? `fanout ${command.name()} --help` : 'fanout --help';
  output.stderr.write(`fanout: ${message}\nUsage: ${usage}\n(more: ${help})\n`);
  return UsageError.exitCode;
}

import { Command } from 'commander';
import { addCdkCommands } from './cdkCommands.js';
import type { CommandContext } from './CommandContext.js';
import { addEstimateCommand } from './costCommands.js';
import { addEmulatorCommand } from './emulatorCommand.js';
import { addJobsCommand } from './jobsCommand.js';
import { packageVersion } from './packageVersion.js';
import { addRunCommand } from './runCommand.js';
import { addWorkerCommand } from './workerCommand.js';

/**
 * The `fanout` command line as one commander program: `run`, `worker`, `emulator`, `synth`,
 * `deploy`, `destroy`, `help`, `--help`, `--version`. Help goes to `context.output.stdout`;
 * errors are not printed here but thrown (commander's `CommanderError`, or `UsageError`), for
 * `main` to print with the usage and exit 2. `onCommand` learns which command is being parsed,
 * so that an error is shown with that command's usage. To add a command: write its `add...`
 * function and call it here.
 *
 * @example
 * ```ts
 * await createProgram(context).parseAsync(['run', 'job.ts'], { from: 'user' });
 * ```
 */
export function createProgram(context: CommandContext, onCommand: (command: Command) => void = () => {}): Command {
  const program = new Command('fanout')
    .usage('<command> [options]')
    .description('fanout: Python’s multiprocessing for TypeScript, on worker threads or across AWS.')
    // Set before the commands are added, which inherit them.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.output.stdout.write(text),
      writeErr: (text) => context.output.stderr.write(text),
      outputError: () => {},
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
    })
    .helpOption('-h, --help', 'show this help (fanout <command> --help for a command)')
    .helpCommand('help [command]', 'show the help of a command')
    .version(`fanout ${packageVersion()}`, '-v, --version', 'show the version')
    .addHelpText('after', '\nExample: fanout run examples/main-job.ts --processes 2\n');
  program.hook('preSubcommand', (_program, command) => onCommand(command));
  addRunCommand(program, context);
  addWorkerCommand(program, context);
  addEmulatorCommand(program, context);
  addCdkCommands(program, context);
  addJobsCommand(program, context);
  addEstimateCommand(program, context);
  return program;
}

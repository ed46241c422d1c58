import { FanoutError } from '../errors.js';

/**
 * The command line of `fanout` is wrong: an unknown command or option, a missing or bad value,
 * a file that does not exist. The message names the option, the value and what is allowed.
 * The CLI prints it with the command's usage and exits with code 2. (Mistakes that the option
 * parser finds itself arrive as commander's errors and are printed the same way.)
 *
 * @example
 * ```ts
 * throw new UsageError("'fanout run': the file 'job.ts' does not exist.", { command: 'run', value: 'job.ts' });
 * ```
 */
export class UsageError extends FanoutError {
  /** The exit code the CLI uses for a usage error (as most Unix tools). */
  static readonly exitCode = 2;
  /** The command whose usage applies (`'run'`), or undefined for the top level. */
  readonly command: string | undefined;
  /** The option concerned, as written (`'--tasks'`), if any. */
  readonly option: string | undefined;
  /** The value concerned, as written, if any. */
  readonly value: string | undefined;

  constructor(message: string, context: { command?: string; option?: string; value?: string } = {}) {
    super('ERR_USAGE', message);
    this.command = context.command;
    this.option = context.option;
    this.value = context.value;
  }
}

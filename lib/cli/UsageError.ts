import { FanoutError } from '../errors.js';

/** What a {@link UsageError} is about, for callers that branch on it (and for tests). */
export type UsageProblem =
  | 'missing-command'
  | 'unknown-command'
  | 'unknown-option'
  | 'missing-value'
  | 'unexpected-value'
  | 'repeated-option'
  | 'invalid-value'
  | 'missing-argument'
  | 'unexpected-argument'
  | 'missing-file';

/**
 * The command line of `fanout` is wrong: an unknown command or option, a missing or bad value,
 * a file that does not exist. The message names the option, the value and what is allowed.
 * The CLI prints it with the command's usage and exits with code 2.
 *
 * @example
 * ```ts
 * try {
 *   parseCommandLine(['run', 'job.ts', '--processes', '0']);
 * } catch (error) {
 *   if (error instanceof UsageError) console.error(error.message, error.command); // ..., 'run'
 * }
 * ```
 */
export class UsageError extends FanoutError {
  /** The exit code the CLI uses for a usage error (as most Unix tools). */
  static readonly exitCode = 2;
  readonly problem: UsageProblem;
  /** The command whose usage applies (`'run'`), or undefined for the top level. */
  readonly command: string | undefined;
  /** The option concerned, as written (`'--processes'`), if any. */
  readonly option: string | undefined;
  /** The value concerned, as written, if any. */
  readonly value: string | undefined;

  constructor(
    problem: UsageProblem,
    message: string,
    context: { command?: string | undefined; option?: string | undefined; value?: string | undefined } = {},
  ) {
    super('ERR_USAGE', message);
    this.problem = problem;
    this.command = context.command;
    this.option = context.option;
    this.value = context.value;
  }
}

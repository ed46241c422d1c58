import { FanoutError } from '../errors.js';

/**
 * A `fanout` command exists but a file it needs is not part of this build of fanout (the
 * `synth`, `deploy` and `destroy` commands need fanout's CDK app).
 *
 * @example
 * ```ts
 * await main(['synth', '--tasks', 'src/tasks.ts']); // 1, with this error's message, when infra/app.js is missing
 * ```
 */
export class CommandUnavailableError extends FanoutError {
  readonly command: string;
  /** The file the command needs. */
  readonly file: string;

  constructor(command: string, file: string, message: string) {
    super('ERR_COMMAND_UNAVAILABLE', message);
    this.command = command;
    this.file = file;
  }
}

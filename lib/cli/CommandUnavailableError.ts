import { FanoutError } from '../errors.js';

/**
 * A `fanout` command exists but the module that implements it is not part of this build (the
 * `worker` command needs the aws backend's worker fleet).
 *
 * @example
 * ```ts
 * await runWorkerCommand([], io).catch((e: CommandUnavailableError) => e.module);
 * ```
 */
export class CommandUnavailableError extends FanoutError {
  readonly command: string;
  /** The module (a file: URL) the command needs. */
  readonly module: string;

  constructor(command: string, module: string, message: string) {
    super('ERR_COMMAND_UNAVAILABLE', message);
    this.command = command;
    this.module = module;
  }
}

import { inspect } from 'node:util';
import { FanoutError } from '../errors.js';
import type { CommandContext } from './CommandContext.js';

/**
 * Prints why a command failed and sets exit code 1: fanout's own errors as their message (they
 * say what was wrong and what to do; a stack would only hide that), anything else in full.
 *
 * @example
 * ```ts
 * await startEmulators().catch((error) => reportFailure(context, 'emulator', error));
 * ```
 */
export function reportFailure(context: CommandContext, command: string, error: unknown): void {
  const detail = error instanceof FanoutError ? error.message : `failed:\n${inspect(error)}`;
  context.output.stderr.write(`fanout ${command}: ${detail}\n`);
  context.exitCode = 1;
}

import type { CommandContext } from './CommandContext.js';
import { UsageError } from './UsageError.js';

/**
 * Throws {@link UsageError} when a command that passes nothing on was given arguments after `--`.
 *
 * @example
 * ```ts
 * refusePassthrough(context, 'worker'); // fanout worker -- x: "'fanout worker' takes no arguments after '--'"
 * ```
 */
export function refusePassthrough(context: CommandContext, command: string): void {
  if (context.passthrough.length === 0) return;
  throw new UsageError(`'fanout ${command}' takes no arguments after '--'; got '${context.passthrough.join(' ')}'.`, {
    command,
    value: context.passthrough.join(' '),
  });
}

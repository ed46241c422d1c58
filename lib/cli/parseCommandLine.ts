import type { CliCommand } from './CliCommand.js';
import { commandTable as defaultTable, type CommandDefinition } from './commandTable.js';
import { UsageError } from './UsageError.js';

/**
 * Parses `fanout`'s arguments (`process.argv.slice(2)`) into a typed command. Throws
 * {@link UsageError} for an unknown command or option, a missing or bad value, a missing file.
 * Nothing runs here, so every case can be tested without starting a process.
 *
 * @example
 * ```ts
 * parseCommandLine(['--version']);                         // { kind: 'version' }
 * parseCommandLine(['run', 'job.ts', '--backend', 'aws']); // { kind: 'run', backend: 'aws', ... }
 * parseCommandLine(['help', 'run']);                       // { kind: 'help', command: 'run' }
 * ```
 */
export function parseCommandLine(
  argv: readonly string[],
  table: ReadonlyMap<string, CommandDefinition> = defaultTable,
): CliCommand {
  const [first, ...rest] = argv;
  const known = [...table.keys()].map((name) => `'${name}'`).join(', ');
  if (first === undefined) {
    throw new UsageError('missing-command', `Give a command: ${known} (or --help, --version).`);
  }
  if (first === '--help' || first === '-h') return { kind: 'help' };
  if (first === '--version' || first === '-v') return { kind: 'version' };
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { kind: 'help' };
    if (!table.has(topic)) throw unknownCommand(topic, known);
    return { kind: 'help', command: topic };
  }
  if (first.startsWith('-')) {
    throw new UsageError(
      'unknown-option',
      `Unknown option '${first}'. Before a command only --help (-h) and --version (-v) are allowed; ` +
        `a command's options go after it: fanout run <file> ${first}`,
      { option: first },
    );
  }
  const definition = table.get(first);
  if (!definition) throw unknownCommand(first, known);
  return definition.parse(rest);
}

function unknownCommand(name: string, known: string): UsageError {
  return new UsageError('unknown-command', `Unknown command '${name}'. Commands: ${known}.`, { value: name });
}

import type { CommandDefinition } from './commandTable.js';

/**
 * The text of `fanout --help` (no `command`) or `fanout <command> --help`.
 *
 * @example
 * ```ts
 * process.stdout.write(formatHelp(commandTable, commandTable.get('run')));
 * ```
 */
export function formatHelp(table: ReadonlyMap<string, CommandDefinition>, command?: CommandDefinition): string {
  if (command) {
    const lines = [`Usage: ${command.usage}`, '', command.summary, '', wrap(command.description, 90), ''];
    if (command.options.length > 0) {
      lines.push('Options:');
      const labels = command.options.map(
        (option) =>
          `  ${option.short ? `-${option.short}, ` : '    '}--${option.name}${option.valueName ? ` ${option.valueName}` : ''}`,
      );
      const width = Math.max(...labels.map((label) => label.length)) + 2;
      command.options.forEach((option, i) => lines.push(`${labels[i]!.padEnd(width)}${option.description}`));
      lines.push('');
    }
    return lines.join('\n');
  }
  const width = Math.max(15, ...[...table.keys()].map((name) => name.length + 4));
  return [
    'fanout: Python’s multiprocessing for TypeScript, on worker threads or across AWS.',
    '',
    'Usage: fanout <command> [options]',
    '',
    'Commands:',
    ...[...table.values()].map((definition) => `  ${definition.name.padEnd(width)}${definition.summary}`),
    '',
    'Options:',
    `  ${'-h, --help'.padEnd(width)}Show this help (fanout <command> --help for a command).`,
    `  ${'-v, --version'.padEnd(width)}Show the version.`,
    '',
    'Example: fanout run examples/main-job.ts --processes 2',
    '',
  ].join('\n');
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

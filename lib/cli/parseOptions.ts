import { parseArgs } from 'node:util';
import { UsageError } from './UsageError.js';

/** An option a command accepts. */
export interface OptionSpec {
  /** The long name, without dashes: `'processes'` for `--processes`. */
  name: string;
  /** A one-letter alias: `'p'` for `-p`. */
  short?: string;
  type: 'string' | 'boolean';
  /** How the value is shown in help: `'N'`, `'local|aws'`. */
  valueName?: string;
  description: string;
}

/** A command's arguments, checked against its {@link OptionSpec}s. */
export interface ParsedOptions {
  /** Options given, by long name: the value of a string option, `true` for a boolean one. */
  values: Map<string, string | true>;
  /** Arguments that are not options, before a `--`. */
  positionals: string[];
  /** Everything after a `--`, untouched. */
  afterTerminator: string[];
}

/**
 * Splits `args` into options and positionals with `node:util`'s `parseArgs`, then checks every
 * option itself so that each mistake gets its own message naming the option, the value and what
 * is allowed: an unknown option, a string option without a value, a boolean option with one, an
 * option given twice. `command` names the command in messages (`'run'`).
 *
 * @example
 * ```ts
 * parseOptions(['job.ts', '-p', '2'], [{ name: 'processes', short: 'p', type: 'string', description: '' }], 'run');
 * // { values: Map { 'processes' => '2' }, positionals: ['job.ts'], afterTerminator: [] }
 * ```
 */
export function parseOptions(args: readonly string[], specs: readonly OptionSpec[], command: string): ParsedOptions {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const spec of specs) options[spec.name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  // strict: false, so that parseArgs reports tokens instead of throwing its generic messages.
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  const parsed: ParsedOptions = { values: new Map(), positionals: [], afterTerminator: [] };
  let terminatorIndex = -1;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      terminatorIndex = token.index;
      break;
    }
    if (token.kind === 'positional') {
      parsed.positionals.push(token.value);
      continue;
    }
    const spec = specs.find((candidate) => candidate.name === token.name);
    if (!spec) {
      throw new UsageError(
        'unknown-option',
        `Unknown option '${token.rawName}' for 'fanout ${command}'. Allowed: ${describeOptions(specs)}.` +
          ` Arguments for your program go after '--': fanout ${command} <file> -- ${token.rawName}`,
        { command, option: token.rawName },
      );
    }
    const shown = displayName(spec);
    if (parsed.values.has(spec.name)) {
      throw new UsageError('repeated-option', `Option ${shown} is given more than once; give it once.`, {
        command,
        option: token.rawName,
      });
    }
    if (spec.type === 'boolean') {
      if (token.value !== undefined) {
        throw new UsageError(
          'unexpected-value',
          `Option ${shown} takes no value; got '${token.rawName}=${token.value}'. Write just ${token.rawName}.`,
          { command, option: token.rawName, value: token.value },
        );
      }
      parsed.values.set(spec.name, true);
      continue;
    }
    // parseArgs takes the next argument as the value even when it is another option: refuse that,
    // but let a negative number through, so that `--processes -1` is reported as a bad value.
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith('-') && !/^-\d/.test(value))) {
      throw new UsageError(
        'missing-value',
        `Option ${shown} needs a value (${token.rawName} ${spec.valueName ?? 'VALUE'})` +
          (value === undefined ? ', but none was given.' : `, but it is followed by the option '${value}'.`),
        { command, option: token.rawName },
      );
    }
    parsed.values.set(spec.name, value);
  }
  if (terminatorIndex >= 0) parsed.afterTerminator = args.slice(terminatorIndex + 1);
  return parsed;
}

/** `--processes (-p)`, as messages show an option. */
function displayName(spec: OptionSpec): string {
  return spec.short ? `'--${spec.name}' (-${spec.short})` : `'--${spec.name}'`;
}

function describeOptions(specs: readonly OptionSpec[]): string {
  return specs.map((spec) => `--${spec.name}${spec.valueName ? ` ${spec.valueName}` : ''}`).join(', ');
}

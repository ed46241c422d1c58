import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../lib/cli/parseCommandLine.js';
import { parseRunArguments } from '../../lib/cli/parseRunArguments.js';
import { commandTable, type CommandDefinition } from '../../lib/cli/commandTable.js';
import { UsageError, type UsageProblem } from '../../lib/cli/UsageError.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'fanout-cli-')));
const program = join(dir, 'job.ts');
writeFileSync(program, 'export {};\n');
mkdirSync(join(dir, 'folder'));

/** Parses and returns the UsageError thrown, failing the test if there is none. */
function usageError(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`expected a UsageError for ${JSON.stringify(argv)}`);
}

function expectUsage(argv: string[], problem: UsageProblem, ...fragments: Array<string | RegExp>): UsageError {
  const error = usageError(argv);
  expect(error.code).toBe('ERR_USAGE');
  expect(error.problem).toBe(problem);
  for (const fragment of fragments) expect(error.message).toMatch(fragment);
  return error;
}

describe('parseCommandLine: top level', () => {
  it('reads --help, -h, help and help <command>', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-h'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['help', 'run'])).toEqual({ kind: 'help', command: 'run' });
  });

  it('reads --version and -v', () => {
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
    expect(parseCommandLine(['-v'])).toEqual({ kind: 'version' });
  });

  it('refuses an empty command line, naming the commands', () => {
    expectUsage([], 'missing-command', "'run'", "'worker'", '--help');
  });

  it('refuses an unknown command, naming it and the known ones', () => {
    const error = expectUsage(['launch', 'job.ts'], 'unknown-command', "Unknown command 'launch'", "'run', 'worker'");
    expect(error.value).toBe('launch');
  });

  it('refuses help about an unknown command', () => {
    expectUsage(['help', 'launch'], 'unknown-command', "'launch'");
  });

  it('refuses an option before the command, saying where options go', () => {
    const error = expectUsage(['--processes', '2', 'run', 'job.ts'], 'unknown-option', "'--processes'", /after it/);
    expect(error.option).toBe('--processes');
    expect(error.command).toBeUndefined();
  });
});

describe('parseCommandLine: run', () => {
  it('reads a file with its options and the program arguments after --', () => {
    const command = parseCommandLine(['run', program, '-p', '3', '--backend', 'aws', '--', '--limit', '5', 'x']);
    expect(command).toEqual({
      kind: 'run',
      file: program,
      fileUrl: pathToFileURL(program).href,
      backend: 'aws',
      processes: 3,
      programArgs: ['--limit', '5', 'x'],
    });
  });

  it('takes options before the file, inline values and short forms', () => {
    expect(parseCommandLine(['run', '--processes=2', '-blocal', program])).toMatchObject({
      kind: 'run',
      processes: 2,
      backend: 'local',
      file: program,
    });
  });

  it('leaves backend and processes out when not given', () => {
    const command = parseCommandLine(['run', program]);
    expect(command).toEqual({ kind: 'run', file: program, fileUrl: pathToFileURL(program).href, programArgs: [] });
  });

  it('resolves a relative file against the working directory, and symbolic links as the loader does', () => {
    const link = join(dir, 'link.ts');
    symlinkSync(program, link);
    expect(parseRunArguments(['link.ts'], dir)).toMatchObject({ file: program, fileUrl: pathToFileURL(program).href });
  });

  it('gives help for run without needing a file', () => {
    expect(parseCommandLine(['run', '--help'])).toEqual({ kind: 'help', command: 'run' });
    expect(parseCommandLine(['run', 'missing.ts', '-h'])).toEqual({ kind: 'help', command: 'run' });
  });

  it('refuses a missing file argument', () => {
    const error = expectUsage(['run'], 'missing-argument', /needs the program to run/);
    expect(error.command).toBe('run');
    expectUsage(['run', '--processes', '2'], 'missing-argument');
  });

  it('refuses a file that does not exist, naming it and where it looked', () => {
    const error = expectUsage(
      ['run', 'no/such/job.ts'],
      'missing-file',
      "'no/such/job.ts' does not exist",
      /looked for .*no\/such\/job\.ts/,
    );
    expect(error.value).toBe('no/such/job.ts');
  });

  it('refuses a directory', () => {
    expectUsage(['run', join(dir, 'folder')], 'missing-file', /is not a file/);
  });

  it('refuses a second positional, showing how to pass program arguments', () => {
    const error = expectUsage(['run', program, 'extra'], 'unexpected-argument', "'extra'", `-- extra`);
    expect(error.value).toBe('extra');
  });

  it('refuses an unknown long or short option, naming it and the allowed ones', () => {
    const error = expectUsage(
      ['run', program, '--limit', '5'],
      'unknown-option',
      "'--limit'",
      '--backend local|aws',
      '--processes N',
      "after '--'",
    );
    expect(error.option).toBe('--limit');
    expectUsage(['run', program, '-x'], 'unknown-option', "'-x'");
  });

  it('refuses a string option without a value', () => {
    const error = expectUsage(
      ['run', program, '--processes'],
      'missing-value',
      "'--processes'",
      /--processes N/,
      /none was given/,
    );
    expect(error.option).toBe('--processes');
    expectUsage(['run', program, '--backend'], 'missing-value', "'--backend'", 'local|aws');
  });

  it('refuses a string option followed by another option instead of a value', () => {
    expectUsage(
      ['run', program, '--processes', '--backend', 'aws'],
      'missing-value',
      "'--processes'",
      "followed by the option '--backend'",
    );
  });

  it('refuses a value given to a boolean option', () => {
    const error = expectUsage(['run', program, '--help=yes'], 'unexpected-value', "'--help'", 'takes no value', "'--help=yes'");
    expect(error.value).toBe('yes');
  });

  it('refuses an option given twice, in either spelling', () => {
    expectUsage(['run', program, '-p', '2', '--processes', '3'], 'repeated-option', "'--processes' (-p)", 'more than once');
  });

  it.each(['0', '-1', 'two', '2.5', '1e1', ' 2', '0x2', '', '99999999999999999999'])(
    'refuses --processes %j, naming the flag, the value and what is allowed',
    (value) => {
      const error = expectUsage(
        ['run', program, `--processes=${value}`],
        'invalid-value',
        "'--processes'",
        `got '${value}'`,
        'a whole number ≥ 1',
      );
      expect(error).toMatchObject({ option: '--processes', value, command: 'run' });
    },
  );

  it('reports a bad option value before a missing file', () => {
    expectUsage(['run', 'no/such/job.ts', '--backend', 'gcp'], 'invalid-value', "got 'gcp'");
  });

  it('refuses --processes -1 given as a separate argument as a bad value', () => {
    expectUsage(['run', program, '--processes', '-1'], 'invalid-value', "got '-1'");
  });

  it('refuses an unknown backend, naming the allowed ones', () => {
    const error = expectUsage(
      ['run', program, '--backend', 'gcp'],
      'invalid-value',
      "'--backend'",
      "'local', 'aws'",
      "got 'gcp'",
    );
    expect(error).toMatchObject({ option: '--backend', value: 'gcp' });
    expectUsage(['run', program, '--backend', 'Local'], 'invalid-value', "got 'Local'");
  });
});

describe('parseCommandLine: worker', () => {
  it('passes every argument to the worker fleet untouched', () => {
    expect(parseCommandLine(['worker', '--queue', 'jobs', '-n', '4', '--help'])).toEqual({
      kind: 'worker',
      args: ['--queue', 'jobs', '-n', '4', '--help'],
    });
    expect(parseCommandLine(['worker'])).toEqual({ kind: 'worker', args: [] });
  });
});

describe('parseCommandLine: the command table', () => {
  it('dispatches to any command in the table it is given', () => {
    const extra: CommandDefinition = {
      name: 'status',
      summary: 'Show the status.',
      usage: 'fanout status',
      description: 'A test command.',
      options: [],
      parse: (args) => ({ kind: 'worker', args: ['status', ...args] }),
    };
    const table = new Map([...commandTable, ['status', extra]]);
    expect(parseCommandLine(['status', 'now'], table)).toEqual({ kind: 'worker', args: ['status', 'now'] });
    expect(() => parseCommandLine(['status'])).toThrow(/Unknown command 'status'/);
  });
});

import { mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RunCommand } from '../../lib/cli/runProgram.js';
import { main, type CliOutput } from '../../lib/cli/main.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'fanout-cli-')));
const program = join(dir, 'job.ts');
writeFileSync(program, 'export {};\n');
mkdirSync(join(dir, 'folder'));

function output(): CliOutput & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    out: () => out,
    err: () => err,
  };
}

/**
 * Runs `fanout ...argv` in this process with a recording runner in place of the program (no
 * program is run: what the command line turned into is what these tests look at).
 */
async function parseRun(argv: string[]): Promise<{ code: number; runs: RunCommand[]; err: string }> {
  const runs: RunCommand[] = [];
  const io = output();
  const code = await main(argv, io, { cwd: dir, runProgram: async (command) => void runs.push(command) });
  return { code, runs, err: io.err() };
}

/** Runs `fanout ...argv` in this process, expecting a usage error; returns its first line. */
async function usageError(argv: string[]): Promise<string> {
  const { code, runs, err } = await parseRun(argv);
  expect(code).toBe(2);
  expect(runs).toEqual([]);
  return err.split('\n')[0]!;
}

describe('main: help and version (in process; programs run through bin/fanout.mjs in cli.test.ts)', () => {
  it('prints the overview for --help, -h and help, and exits 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const io = output();
      expect(await main(argv, io)).toBe(0);
      expect(io.out()).toMatch(/^Usage: fanout <command> \[options\]/);
      expect(io.out()).toMatch(/^ {2}run \[options\] <file> +Run a program/m);
      expect(io.out()).toMatch(/^ {2}worker \[options\] +Run aws-backend workers/m);
      expect(io.out()).toMatch(/^ {2}emulator \[options\] +Run the AWS emulators/m);
      expect(io.out()).toMatch(/^ {2}deploy \[options\] +Deploy fanout’s stack/m);
      expect(io.err()).toBe('');
    }
  });

  it("prints a command's usage and options for <command> --help and help <command>", async () => {
    for (const argv of [
      ['run', '--help'],
      ['help', 'run'],
      ['run', 'missing.ts', '-h'],
    ]) {
      const io = output();
      expect(await main(argv, io)).toBe(0);
      expect(io.out()).toMatch(/^Usage: fanout run <file> \[--backend local\|aws\] \[--processes N\]/);
      expect(io.out()).toMatch(/-p, --processes <N> +workers of a Pool/);
      expect(io.out()).toMatch(/-b, --backend <local\|aws> +the backend/);
    }
  });

  it('documents every option of the worker fleet, and the routes of the emulator', async () => {
    const worker = output();
    expect(await main(['worker', '--help'], worker)).toBe(0);
    for (const option of [
      '--threads <N>',
      '--concurrency <N>',
      '--batch-size <N>',
      '--wait-time <seconds>',
      '--visibility-timeout <seconds>',
      '--timeout <seconds>',
      '--tasks <module...>',
      '--quiet',
    ]) {
      expect(worker.out()).toContain(option);
    }
    const emulator = output();
    expect(await main(['emulator', '--help'], emulator)).toBe(0);
    expect(emulator.out()).toContain('npx fanout emulator --write-env .env.fanout');
    expect(emulator.out()).toContain('node --env-file=.env.fanout app.js');
    expect(emulator.out()).toContain('npx fanout emulator > fanout.env');
    expect(emulator.out()).toContain('npm install --save-dev fauxqs@1.9.2 dynalite@4.0.0');
  });

  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const io = output();
      expect(await main([flag], io)).toBe(0);
      expect(io.out()).toBe(`fanout ${version}\n`);
    }
  });
});

describe('main: usage errors', () => {
  it("prints the message, the command's usage and where to read more on stderr, and exits 2", async () => {
    const io = output();
    expect(await main(['run', 'no-such-file.ts', '--processes', 'many'], io)).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toBe(
      "fanout: option '-p, --processes <N>' argument 'many' is invalid. Allowed: a whole number ≥ 1 in digits, like 4.\n" +
        'Usage: fanout run <file> [--backend local|aws] [--processes N] [-- program arguments]\n' +
        '(more: fanout run --help)\n',
    );
  });

  it('points to the overview for an unknown command', async () => {
    const io = output();
    expect(await main(['launch'], io)).toBe(2);
    expect(io.err()).toMatch(
      /^fanout: unknown command 'launch'\. Commands: run, worker, emulator, synth, deploy, destroy, jobs, estimate\./,
    );
    expect(io.err()).toContain('(more: fanout --help)');
  });

  it.each(['0', '-1', 'two', '2.5', '1e1', ' 2', '0x2', '', '99999999999999999999'])(
    'refuses --processes %j, naming the flag, the value and what is allowed',
    async (value) => {
      expect(await usageError(['run', program, `--processes=${value}`])).toBe(
        `fanout: option '-p, --processes <N>' argument '${value}' is invalid. Allowed: a whole number ≥ 1 in digits, like 4.`,
      );
    },
  );

  it('refuses --processes -1 given as a separate argument as a bad value', async () => {
    expect(await usageError(['run', program, '--processes', '-1'])).toMatch(/argument '-1' is invalid/);
  });

  it('refuses an unknown backend, naming the allowed ones, case and all', async () => {
    for (const value of ['gcp', 'Local']) {
      expect(await usageError(['run', program, '--backend', value])).toMatch(
        new RegExp(`argument '${value}' is invalid\\. Allowed: one of 'local', 'aws'\\.`),
      );
    }
  });

  it('reports a bad option value before a missing file', async () => {
    expect(await usageError(['run', 'no/such/job.ts', '--backend', 'gcp'])).toMatch(/argument 'gcp' is invalid/);
  });

  it('refuses a directory, and says where it looked for a missing file', async () => {
    expect(await usageError(['run', join(dir, 'folder')])).toMatch(/the program '.*folder' is not a file/);
    expect(await usageError(['run', 'no/such/job.ts'])).toBe(
      `fanout: the program 'no/such/job.ts' does not exist (looked for ${join(dir, 'no/such/job.ts')}).`,
    );
  });

  it('refuses a value given to a flag that takes none', async () => {
    expect(await usageError(['worker', '--quiet=yes'])).toMatch(/unknown option '--quiet=yes'/);
  });

  it('refuses each numeric worker option out of its range, naming the range', async () => {
    const cases: Array<[string, string, string]> = [
      ['--threads', '257', 'from 1 to 256'],
      ['--concurrency', '0', 'from 1 to 1000'],
      ['--batch-size', '11', 'from 1 to 10'],
      ['--wait-time', '21', 'from 0 to 20'],
      ['--visibility-timeout', '43201', 'from 0 to 43200'],
      ['--timeout', '0', 'from 1 to 900'],
      ['--timeout', '901', 'from 1 to 900'],
      ['--timeout', '1.5', 'from 1 to 900'],
    ];
    for (const [option, value, range] of cases) {
      expect(await usageError(['worker', option, value])).toMatch(
        new RegExp(`option '${option} <\\w+>' argument '${value}' is invalid\\. Allowed: a whole number ${range} in digits\\.`),
      );
    }
  });

  it('refuses bad emulator options', async () => {
    expect(await usageError(['emulator', '--sqs-port', '65536'])).toMatch(/--sqs-port <port>' argument '65536' is invalid/);
    expect(await usageError(['emulator', '--name', 'Fanout'])).toMatch(
      /--name <prefix>' argument 'Fanout' is invalid\. Allowed: 2-41 lower-case/,
    );
    expect(await usageError(['emulator', '--host', '192.168.1.10'])).toMatch(/Allowed: a loopback address/);
    expect(await usageError(['emulator', '--host', '::'])).toMatch(/argument '::' is invalid/);
  });
});

describe('main: run', () => {
  it('reads a file with its options and the program arguments after --, untouched', async () => {
    const { code, runs } = await parseRun(['run', program, '-p', '3', '--backend', 'aws', '--', '--limit', '5', '--', 'x']);
    expect(code).toBe(0);
    expect(runs).toEqual([
      {
        file: program,
        fileUrl: pathToFileURL(program).href,
        backend: 'aws',
        processes: 3,
        programArgs: ['--limit', '5', '--', 'x'],
      },
    ]);
  });

  it('takes options before the file, inline values and short forms', async () => {
    const { runs } = await parseRun(['run', '--processes=2', '-blocal', program]);
    expect(runs).toEqual([
      { file: program, fileUrl: pathToFileURL(program).href, backend: 'local', processes: 2, programArgs: [] },
    ]);
  });

  it('leaves backend and processes out when not given', async () => {
    const { runs } = await parseRun(['run', program]);
    expect(runs).toEqual([{ file: program, fileUrl: pathToFileURL(program).href, programArgs: [] }]);
  });

  it('resolves a relative file against the working directory, and symbolic links as the loader does', async () => {
    symlinkSync(program, join(dir, 'link.ts'));
    const { runs } = await parseRun(['run', 'link.ts']);
    expect(runs[0]).toMatchObject({ file: program, fileUrl: pathToFileURL(program).href });
  });

  it("reports the program's error with its stack and exits 1", async () => {
    const io = output();
    const failing = async () => {
      throw new RangeError('the program failed on purpose');
    };
    expect(await main(['run', program], io, { cwd: dir, runProgram: failing })).toBe(1);
    expect(io.err()).toMatch(new RegExp(`^fanout: ${program} failed:\\nRangeError: the program failed on purpose\\n +at `));
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './runCli.js';

const fixture = (name: string) => `test/cli/fixtures/${name}`;
const fixturePath = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const job = fixture('showEnvironment.ts');

describe('bin/fanout.mjs (spawned as a user would)', { timeout: 180_000 }, () => {
  it('prints help and the version', async () => {
    const help = await runCli(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('Usage: fanout <command>');
    for (const command of ['run', 'worker', 'emulator', 'synth', 'deploy', 'destroy']) {
      expect(help.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `fanout ${version}\n` });
  });

  it('runs a program with FANOUT_PROCESSES, FANOUT_BACKEND and its own arguments set', async () => {
    const run = await runCli(['run', job, '--processes', '3', '--backend', 'local', '--', '--size', '5']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      argv1: fixturePath('showEnvironment.ts'),
      args: ['--size', '5'],
      FANOUT_BACKEND: 'local',
      FANOUT_PROCESSES: '3',
      poolProcesses: 3,
    });
  });

  it('leaves FANOUT_* alone when the options are not given, and passes --backend aws on', async () => {
    const plain = await runCli(['run', job], { FANOUT_PROCESSES: '5' });
    expect(JSON.parse(plain.stdout)).toMatchObject({ FANOUT_BACKEND: null, FANOUT_PROCESSES: '5', poolProcesses: 5, args: [] });
    const aws = await runCli(['run', job, '-b', 'aws']);
    expect(JSON.parse(aws.stdout)).toMatchObject({ FANOUT_BACKEND: 'aws' });
  });

  it('does not load the AWS SDK to run a program (the aws commands load it when they run)', async () => {
    const run = await runCli(['run', 'test/fixtures/awsSdkLoaded.ts']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('{"before":0}');
  });

  it('refuses a task defined in the entry script, saying to move it into a module', async () => {
    const run = await runCli(['run', fixture('taskInEntryScript.ts')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`fanout: ${fixturePath('taskInEntryScript.ts')} failed:`);
    expect(run.stderr).toMatch(/TaskDefinitionError: Task 'fixture\.entryScriptDouble' is defined in the entry script/);
    expect(run.stderr).toMatch(/Move the task into a module of its own/);
    expect(run.stderr).toContain("code: 'ERR_TASK_DEFINITION'");
  });

  it("reports a program's error and exits 1", async () => {
    const run = await runCli(['run', fixture('throwsError.ts')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/failed:\nRangeError: the program failed on purpose/);
  });

  it("keeps the program's own exit code", async () => {
    const run = await runCli(['run', fixture('setsExitCode.ts')]);
    expect(run).toMatchObject({ code: 3, stdout: 'exiting with 3\n', stderr: '' });
  });

  it("says what is wrong with the aws configuration of 'fanout worker', in one line, and exits 1", async () => {
    const run = await runCli(['worker', '--threads', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^fanout worker: The aws backend is not configured: FANOUT_QUEUE_URL, .*npx fanout emulator/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

/**
 * Every kind of bad command line: exit code 2, nothing on stdout, and on stderr one line that
 * names what is wrong, then the usage and where to read more. Never a stack trace.
 */
describe('usage errors exit 2 (spawned as a user would)', { timeout: 180_000 }, () => {
  const cases: Array<{ kind: string; args: string[]; message: RegExp; usage: RegExp }> = [
    { kind: 'no command', args: [], message: /give a command: run, worker, emulator/, usage: /fanout <command>/ },
    {
      kind: 'an unknown command',
      args: ['launch', 'job.ts'],
      message: /unknown command 'launch'\. Commands: run, worker, emulator, synth, deploy, destroy, jobs, estimate\./,
      usage: /fanout <command>/,
    },
    {
      kind: 'help about an unknown command',
      args: ['help', 'launch'],
      message: /unknown command 'launch'/,
      usage: /fanout <command>/,
    },
    {
      kind: 'an option before the command',
      args: ['--processes', '2', 'run', job],
      message: /unknown option '--processes'\. A command's options go after it/,
      usage: /fanout <command>/,
    },
    {
      kind: 'an unknown option',
      args: ['run', job, '--limit', '5'],
      message: /unknown option '--limit'\. Arguments for your program go after '--'/,
      usage: /fanout run <file>/,
    },
    {
      kind: 'an unknown option, with a suggestion',
      args: ['worker', '--treads', '2'],
      message: /unknown option '--treads' \(Did you mean --threads\?\)/,
      usage: /fanout worker \[options\]/,
    },
    {
      kind: 'a missing value',
      args: ['run', job, '--processes'],
      message: /option '-p, --processes <N>' argument missing/,
      usage: /fanout run <file>/,
    },
    {
      kind: 'an option where a value should be',
      args: ['run', job, '--processes', '--backend', 'aws'],
      message: /--processes <N>' argument '--backend' is invalid\. It needs a value .* followed by the option '--backend'/,
      usage: /fanout run <file>/,
    },
    {
      kind: 'a value out of range (worker --threads 0)',
      args: ['worker', '--threads', '0'],
      message: /option '--threads <N>' argument '0' is invalid\. Allowed: a whole number from 1 to 256/,
      usage: /fanout worker/,
    },
    {
      kind: 'a value that is not a number (worker --threads two)',
      args: ['worker', '--threads', 'two'],
      message: /option '--threads <N>' argument 'two' is invalid\. Allowed: a whole number from 1 to 256/,
      usage: /fanout worker/,
    },
    {
      kind: 'a value not among the choices',
      args: ['run', job, '--backend', 'gcp'],
      message: /option '-b, --backend <local\|aws>' argument 'gcp' is invalid\. Allowed: one of 'local', 'aws'\./,
      usage: /fanout run <file>/,
    },
    {
      kind: 'an option given twice',
      args: ['run', job, '-p', '2', '--processes', '3'],
      message: /argument '3' is invalid\. The option is given more than once/,
      usage: /fanout run <file>/,
    },
    {
      kind: 'a missing argument',
      args: ['run', '--processes', '2'],
      message: /missing required argument 'file'/,
      usage: /fanout run <file>/,
    },
    {
      kind: 'an extra argument',
      args: ['run', job, 'extra'],
      message: /too many arguments for 'run'\. .* go after '--'/,
      usage: /fanout run <file>/,
    },
    {
      kind: 'a file that does not exist',
      args: ['run', 'examples/no-such-job.ts'],
      message: /the program 'examples\/no-such-job\.ts' does not exist \(looked for .*examples\/no-such-job\.ts\)/,
      usage: /fanout run <file>/,
    },
    {
      kind: 'a task module that does not exist',
      args: ['worker', '--tasks', 'no/such/tasks.ts'],
      message: /the task module 'no\/such\/tasks\.ts' does not exist/,
      usage: /fanout worker/,
    },
    {
      kind: 'arguments after -- for a command that takes none',
      args: ['emulator', '--', '--verbose'],
      message: /'fanout emulator' takes no arguments after '--'; got '--verbose'/,
      usage: /fanout emulator/,
    },
    {
      kind: 'a host that is not loopback',
      args: ['emulator', '--host', '0.0.0.0'],
      message: /option '--host <address>' argument '0\.0\.0\.0' is invalid\. Allowed: a loopback address/,
      usage: /fanout emulator/,
    },
    {
      kind: 'a missing required option',
      args: ['deploy'],
      message: /required option '--tasks <module\.\.\.>' not specified/,
      usage: /fanout deploy --tasks <module\.\.\.>/,
    },
    {
      kind: 'a bad stack name',
      args: ['destroy', '--tasks', 'test/fixtures/tasks.ts', '--stack-name', '9lives'],
      message: /option '--stack-name <name>' argument '9lives' is invalid\. Allowed: a letter, then letters/,
      usage: /fanout destroy/,
    },
  ];

  // Concurrent: each case is a process of its own that only parses.
  it.concurrent.for(cases)('$kind', async ({ args, message, usage }, { expect }) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^fanout: /);
    expect(lines[0]).toMatch(message);
    expect(lines[1]).toMatch(/^Usage: /);
    expect(lines[1]).toMatch(usage);
    expect(lines[2]).toMatch(/^\(more: fanout .*--help\)$/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './runCli.js';

const fixture = (name: string) => `test/cli/fixtures/${name}`;
const fixturePath = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('bin/fanout.mjs (spawned as a user would)', { timeout: 180_000 }, () => {
  it('prints help and the version', async () => {
    const help = await runCli(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('Usage: fanout <command>');
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `fanout ${version}\n` });
  });

  it('exits 2 with a clear message for usage errors', async () => {
    const unknown = await runCli(['launch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^fanout: Unknown command 'launch'/);
    const missing = await runCli(['run', 'examples/no-such-job.ts']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/the file 'examples\/no-such-job\.ts' does not exist/);
    const bad = await runCli(['run', fixture('showEnvironment.ts'), '--processes', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Option '--processes' must be a whole number ≥ 1 .*got '0'/);
    expect(bad.stdout).toBe('');
  });

  it('runs a program with FANOUT_PROCESSES, FANOUT_BACKEND and its own arguments set', async () => {
    const run = await runCli([
      'run',
      fixture('showEnvironment.ts'),
      '--processes',
      '3',
      '--backend',
      'local',
      '--',
      '--size',
      '5',
    ]);
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
    const plain = await runCli(['run', fixture('showEnvironment.ts')], { FANOUT_PROCESSES: '5' });
    expect(JSON.parse(plain.stdout)).toMatchObject({ FANOUT_BACKEND: null, FANOUT_PROCESSES: '5', poolProcesses: 5, args: [] });
    const aws = await runCli(['run', fixture('showEnvironment.ts'), '-b', 'aws']);
    expect(JSON.parse(aws.stdout)).toMatchObject({ FANOUT_BACKEND: 'aws' });
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
});

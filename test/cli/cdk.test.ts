import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cdkInvocation } from '../../lib/cli/cdkInvocation.js';
import { main, type CliOutput } from '../../lib/cli/main.js';
import type { CommandInvocation, CommandSpawner } from '../../lib/cli/spawnCommand.js';
import { repoRoot, runCli } from './runCli.js';

const tasks = join(repoRoot, 'test/fixtures/tasks.ts');
const awsTasks = join(repoRoot, 'test/fixtures/awsTasks.ts');
const app = join(repoRoot, 'infra/app.ts');

function output(): CliOutput & { err: () => string } {
  let err = '';
  return { stdout: { write: () => true }, stderr: { write: (text: string) => (err += text) }, err: () => err };
}

/** An injectable spawner that records the command line instead of starting it (no AWS account here). */
function recordingSpawner(exitCode = 0): { spawn: CommandSpawner; calls: CommandInvocation[] } {
  const calls: CommandInvocation[] = [];
  return { calls, spawn: async (invocation) => (calls.push(invocation), exitCode) };
}

describe('fanout deploy / destroy (the command line they spawn, through an injectable spawner)', () => {
  it('deploy runs cdk deploy on fanout’s app with the task modules, stack, profile, region and extra cdk arguments', async () => {
    const { spawn, calls } = recordingSpawner(0);
    const io = output();
    const argv = [
      'deploy',
      ...['--tasks', 'test/fixtures/tasks.ts', 'test/fixtures/awsTasks.ts'],
      ...['--stack-name', 'FanoutDev', '--profile', 'work', '--region', 'eu-west-1'],
      ...['--', '--require-approval', 'never'],
    ];
    expect(await main(argv, io, { cwd: repoRoot, spawn })).toBe(0);
    expect(io.err()).toBe('');
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.command).toBe(process.execPath);
    expect(call!.cwd).toBe(repoRoot);
    expect(call!.args[0]).toBe(join(repoRoot, 'node_modules/aws-cdk/bin/cdk'));
    expect(call!.args.slice(1)).toEqual([
      'deploy',
      'FanoutDev',
      '--app',
      `${process.execPath} --import ${new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href} ${app}`,
      '--output',
      'cdk.out',
      '--context',
      `taskModules=${tasks},${awsTasks}`,
      '--context',
      'stackName=FanoutDev',
      '--profile',
      'work',
      '--require-approval',
      'never',
    ]);
    expect(call!.env).toMatchObject({
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
  });

  it('destroy runs cdk destroy on the default stack, and main returns cdk’s exit code', async () => {
    const { spawn, calls } = recordingSpawner(3);
    const io = output();
    expect(await main(['destroy', '--tasks', tasks, '--tasks', awsTasks], io, { cwd: repoRoot, spawn })).toBe(3);
    expect(calls[0]!.args.slice(1, 3)).toEqual(['destroy', 'Fanout']);
    expect(calls[0]!.args).toContain(`taskModules=${tasks},${awsTasks}`);
    expect(calls[0]!.args).toContain('stackName=Fanout');
    expect(calls[0]!.args).not.toContain('--profile');
    expect(calls[0]!.env.AWS_REGION).toBe(process.env.AWS_REGION);
  });

  it('says to install the CDK when aws-cdk cannot be found from the project, and spawns nothing', async () => {
    const project = mkdtempSync(join(tmpdir(), 'fanout-no-cdk-'));
    writeFileSync(join(project, 'tasks.mjs'), 'export {};\n');
    const { spawn, calls } = recordingSpawner();
    const io = output();
    expect(await main(['deploy', '--tasks', 'tasks.mjs'], io, { cwd: project, spawn })).toBe(1);
    expect(calls).toEqual([]);
    expect(io.err()).toBe(
      `fanout deploy: 'fanout deploy' (run in ${project}) needs aws-cdk, which is not installed. ` +
        'Install in your project: npm install --save-dev aws-cdk aws-cdk-lib constructs\n',
    );
  });

  it('refuses a task module path with a comma (the app’s list cannot hold it) as a usage error', async () => {
    const project = mkdtempSync(join(tmpdir(), 'fanout-comma-'));
    writeFileSync(join(project, 'a,b.ts'), 'export {};\n');
    const { spawn, calls } = recordingSpawner();
    const io = output();
    expect(await main(['synth', '--tasks', 'a,b.ts'], io, { cwd: project, spawn })).toBe(2);
    expect(calls).toEqual([]);
    expect(io.err()).toMatch(/^fanout: the task module path 'a,b\.ts' contains a comma/);
  });

  it('quotes what the shell that runs the app must not split', () => {
    const call = cdkInvocation({
      verb: 'synth',
      cdkBin: '/p/node_modules/aws-cdk/bin/cdk',
      app: { file: "/my app/it's/app.js" },
      tasks: ['/my app/tasks.js'],
      stackName: 'Fanout',
      extra: [],
      cwd: '/my app',
      env: {},
      node: '/usr/bin/node',
    });
    expect(call.args[4]).toBe("/usr/bin/node '/my app/it'\\''s/app.js'");
    expect(call.args).toContain('taskModules=/my app/tasks.js');
  });
});

describe('fanout synth (for real: the CDK CLI, fanout’s app, esbuild)', () => {
  it('synthesizes fanout’s stack with the task modules into cdk.out of the working directory', { timeout: 240_000 }, async () => {
    // A project inside the repository's node_modules, so that aws-cdk resolves from it as from a
    // user's project: a package.json and a lock file, no cdk.json (the construct sets the feature
    // flags it needs).
    const cache = join(repoRoot, 'node_modules/.cache');
    mkdirSync(cache, { recursive: true });
    const project = mkdtempSync(join(cache, 'fanout-synth-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'synth-project', private: true, type: 'module' }));
    writeFileSync(
      join(project, 'package-lock.json'),
      JSON.stringify({ name: 'synth-project', lockfileVersion: 3, packages: {} }),
    );
    try {
      const run = await runCli(
        ['synth', '--tasks', tasks, '--stack-name', 'FanoutCliSynth', '--', '--quiet'],
        {},
        {
          cwd: project,
          timeoutMs: 220_000,
        },
      );
      expect(run.stderr).not.toContain('NodeVersionSupportWarning');
      expect(run.code).toBe(0);
      const out = join(project, 'cdk.out');
      const template = JSON.parse(readFileSync(join(out, 'FanoutCliSynth.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string }>;
      };
      const types = new Set(Object.values(template.Resources).map((resource) => resource.Type));
      for (const type of ['AWS::SQS::Queue', 'AWS::Lambda::Function', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket']) {
        expect(types).toContain(type);
      }
      // The worker's bundle holds the task modules given.
      const bundles = readdirSync(out)
        .filter((name) => name.startsWith('asset.'))
        .flatMap((asset) =>
          readdirSync(join(out, asset))
            .filter((file) => file.endsWith('.mjs') || file.endsWith('.js'))
            .map((file) => readFileSync(join(out, asset, file), 'utf8')),
        );
      expect(bundles.some((code) => code.includes('"addOne"') || code.includes("'addOne'"))).toBe(true);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});

import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumerProject, packFanout } from './ConsumerProject.js';

/**
 * fanout as a user gets it: packed with `npm pack`, installed into fresh projects outside the
 * repository, and used there through every route the package offers.
 */
describe('the packed package in a fresh project', { timeout: 300_000 }, () => {
  let tarball: string;
  /** A project with the tools a TypeScript and CDK user adds. */
  let project: ConsumerProject;
  /** A project with nothing but fanout: plain JavaScript, no TypeScript loader, no CDK. */
  let bare: ConsumerProject;

  beforeAll(async () => {
    tarball = await packFanout();
    project = new ConsumerProject(tarball, [
      'typescript',
      '@types/node',
      'tsx',
      'esbuild',
      'rollup',
      '@rollup/plugin-node-resolve',
      'aws-cdk',
      'aws-cdk-lib',
      'constructs',
    ]);
    bare = new ConsumerProject(tarball, []);
    for (const name of ['tasks.mjs', 'main.mjs', 'require.cjs', 'tasks.ts', 'main.ts']) bare.copyFixture(name);
    for (const name of readdirSync(new URL('./fixtures/', import.meta.url))) project.copyFixture(name);
  }, 300_000);

  afterAll(() => {
    project?.remove();
    bare?.remove();
    if (tarball) rmSync(dirname(tarball), { recursive: true, force: true });
  });

  it('ships compiled JavaScript, declarations and the CLI, and no tests, benchmarks or sources', async () => {
    const listing = await project.exec('tar', ['-tzf', tarball]);
    const files = listing.stdout.trim().split('\n');
    expect(files).toContain('package/dist/lib/index.js');
    expect(files).toContain('package/dist/lib/index.d.ts');
    expect(files).toContain('package/dist/lib/runtime/workerThread.js');
    expect(files).toContain('package/dist/infra/index.js');
    expect(files).toContain('package/dist/functions/worker/handler.js');
    expect(files).toContain('package/bin/fanout.mjs');
    expect(files.filter((file) => /^package\/(test|bench|examples|scripts|\.ci|lib)\//.test(file))).toEqual([]);
    expect(files.filter((file) => /\.ts$/.test(file) && !/\.d\.[cm]?ts$/.test(file))).toEqual([]);
  });

  it('runs a plain JavaScript program with plain node, and require() finds the same API', async () => {
    const run = await bare.exec('node', ['main.mjs']);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ squares: [1, 4, 9, 16], remote: true, message: 'bad input' });
    expect(await bare.exec('node', ['require.cjs'])).toMatchObject({ code: 0, stdout: 'function function\n' });
    const version = JSON.parse(readFileSync(join(bare.dir, 'node_modules/fanout/package.json'), 'utf8')) as { version: string };
    expect(await bare.exec('fanout', ['--version'])).toMatchObject({ code: 0, stdout: `fanout ${version.version}\n` });
  });

  it('says how to load TypeScript task modules when no loader is installed', async () => {
    const run = await bare.exec('fanout', ['run', 'main.ts']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('tsx');
    expect(run.stderr).toContain('--experimental-strip-types');
    expect(run.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION[\s\S]*at /);
  });

  it('runs TypeScript programs and task modules under fanout run and under node --import tsx', async () => {
    const expected = {
      cubes: [1, 8, 27],
      one: 64,
      greeting: 'hello, fanout',
      exitCode: 0,
      locked: false,
      count: 2,
      names: ['cube', 'RemoteError', 'Pool'],
    };
    for (const command of [
      ['fanout', 'run', 'main.ts'],
      ['node', '--import', 'tsx', 'main.ts'],
    ] as const) {
      const run = await project.exec(command[0], command.slice(1));
      expect(run.stderr, command.join(' ')).toBe('');
      expect(JSON.parse(run.stdout), command.join(' ')).toEqual(expected);
    }
  });

  it('type-checks a strict TypeScript program with tsc --init defaults', async () => {
    await project.exec('tsc', ['--init']);
    const config = readFileSync(join(project.dir, 'tsconfig.json'), 'utf8').replace(/"types": \[\]/, '"types": ["node"]');
    expect(config).toContain('"types": ["node"]');
    project.write('tsconfig.json', config);
    const check = await project.exec('tsc', ['--noEmit', '-p', '.']);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.code).toBe(0);
    // And fanout's own declarations (with what they reference) hold up without skipLibCheck.
    project.write(
      'tsconfig.strict.json',
      JSON.stringify({ extends: './tsconfig.json', compilerOptions: { skipLibCheck: false }, files: ['main.ts', 'tasks.ts'] }),
    );
    const strict = await project.exec('tsc', ['--noEmit', '-p', 'tsconfig.strict.json']);
    expect(strict.stdout + strict.stderr).toBe('');
    expect(strict.code).toBe(0);
  });

  it('runs an app bundled with esbuild, fanout inside it, tasks found by name', async () => {
    const bundle = await project.exec('esbuild', [
      'bundledApp.ts',
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--outfile=out/app.mjs',
      '--external:@aws-sdk/*',
      '--log-level=warning',
    ]);
    expect(bundle).toMatchObject({ code: 0, stderr: '' });
    // Run from elsewhere, without node_modules beside it: everything is in the bundle.
    const run = await project.exec('node', [join(project.dir, 'out/app.mjs')]);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ cubes: [1, 8, 27], greeting: 'hello, bundle', exitCode: 0 });
  });

  it('refuses, clearly, a bundled app whose main code would run again in its threads', async () => {
    await project.exec('esbuild', [
      'unguardedApp.ts',
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--outfile=out/unguarded.mjs',
      '--external:@aws-sdk/*',
    ]);
    const run = await project.exec('node', ['out/unguarded.mjs']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('isFanoutThread()');
  });

  it('runs an app bundled with Rollup into chunks', async () => {
    const bundle = await project.exec('rollup', ['-c', 'rollup.config.mjs', '--silent']);
    expect(bundle).toMatchObject({ code: 0 });
    const run = await project.exec('node', ['out-rollup/rollupApp.js']);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([25, 36]);
  });

  it("synthesizes the user's CDK app through fanout/cdk, bundling the user's tasks locally", async () => {
    const synth = await project.exec('node', ['--import', 'tsx', 'cdkApp.ts']);
    expect(synth.code, synth.stderr).toBe(0);
    expect(synth.stdout).toContain('ConsumerStack/Fanout/Worker');
    const template = readFileSync(join(project.dir, 'cdk.out/ConsumerStack.template.json'), 'utf8');
    expect(template).toContain('AWS::Lambda::Function');
    // The worker's and the API's bundles: the two assets holding an index.mjs, both with the user's tasks.
    const assets = readdirSync(join(project.dir, 'cdk.out')).filter(
      (name) => name.startsWith('asset.') && existsSync(join(project.dir, 'cdk.out', name, 'index.mjs')),
    );
    expect(assets).toHaveLength(2);
    for (const other of assets) expect(readFileSync(join(project.dir, 'cdk.out', other, 'index.mjs'), 'utf8')).toContain('cube');
    const assetDir = assets.find((name) =>
      readFileSync(join(project.dir, 'cdk.out', name, 'index.mjs'), 'utf8').includes('fanoutWorker'),
    );
    expect(assetDir).toBeDefined();
    const asset = readFileSync(join(project.dir, 'cdk.out', assetDir!, 'index.mjs'), 'utf8');
    expect(asset).toContain('hello, ');
    expect(asset).toContain('cube');
  });

  it('synthesizes fanout’s own stack with fanout synth (no CDK app of the user’s, no cdk-nag installed)', async () => {
    const synth = await project.exec('fanout', ['synth', '--tasks', 'tasks.ts', '--stack-name', 'UserFanout', '--', '--quiet']);
    expect(synth.code, synth.stderr).toBe(0);
    expect(synth.stderr).toContain('cdk-nag is not installed');
    const template = readFileSync(join(project.dir, 'cdk.out/UserFanout.template.json'), 'utf8');
    expect(template).toContain('AWS::Lambda::EventSourceMapping');
  });

  it('passes publint and arethetypeswrong', async () => {
    const repo = new URL('../../', import.meta.url);
    const publint = await project.exec(new URL('node_modules/.bin/publint', repo).pathname, ['run', tarball, '--strict']);
    expect(publint.stdout + publint.stderr).toContain('All good');
    expect(publint.code).toBe(0);
    const attw = await project.exec(new URL('node_modules/.bin/attw', repo).pathname, [tarball, '--profile', 'node16']);
    expect(attw.code, attw.stdout).toBe(0);
    expect(attw.stdout).not.toMatch(/🟡|👺|❗|🐛|🥴|❌/u);
  });
});

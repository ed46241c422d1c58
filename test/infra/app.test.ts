import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FANOUT_OUTPUTS } from '../../infra/FanoutStack.js';
import { FIXTURE_HANDLER, FIXTURE_TASKS, REPO_ROOT } from './fixtures/synth.js';

const run = promisify(execFile);
const outdirs: string[] = [];

/** `npx cdk synth --quiet` from the repository root, through cdk.json and infra/app.ts, offline. */
async function synth(context: Record<string, string>, env: Record<string, string> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'fanout-cdk-'));
  outdirs.push(outdir);
  const args = [
    'cdk',
    'synth',
    '--quiet',
    '--output',
    outdir,
    ...Object.entries(context).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  try {
    const { stdout, stderr } = await run('npx', args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      timeout: 180_000,
    });
    return { code: 0, stdout, stderr, outdir };
  } catch (error) {
    const failed = error as { code?: number; stdout: string; stderr: string };
    return { code: failed.code ?? -1, stdout: failed.stdout, stderr: failed.stderr, outdir };
  }
}

afterAll(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

describe('the CDK app (cdk.json → infra/app.ts)', () => {
  it('synthesizes the stack named by FANOUT_STACK, with cdk-nag passing', { timeout: 200_000 }, async () => {
    const result = await synth({ taskModules: FIXTURE_TASKS, workerEntry: FIXTURE_HANDLER }, { FANOUT_STACK: 'CliTest' });
    expect(result.stderr).not.toMatch(/AwsSolutions-/);
    expect(result.code).toBe(0);
    const template = JSON.parse(readFileSync(join(result.outdir, 'CliTest.template.json'), 'utf8'));
    expect(Object.keys(template.Outputs).sort()).toEqual([...FANOUT_OUTPUTS].sort());
    for (const name of FANOUT_OUTPUTS) expect(template.Outputs[name].Export.Name).toBe(`CliTest-${name}`);
    const report = JSON.parse(readFileSync(join(result.outdir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  });

  it('fails with a clear error naming the prop when a task module does not exist', { timeout: 200_000 }, async () => {
    const result = await synth({ taskModules: 'no/such/tasks.ts', workerEntry: FIXTURE_HANDLER });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Fanout props.taskModules[0] must be the path of an existing file');
    expect(result.stderr).toContain(join(REPO_ROOT, 'no', 'such', 'tasks.ts'));
  });
});

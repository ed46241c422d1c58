import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobService } from '../../lib/backend/JobService.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { configEnvironment } from '../../lib/backends/aws/emulator.js';
import { provisionForTest, startFleet, waitFor, type TestFleet } from '../integration/awsHarness.js';
import { runCli } from './runCli.js';
// Registers the tasks in this process, which submits the jobs (as the API's bundle does).
import '../fixtures/tasks.js';

const TASKS = fileURLToPath(new URL('../fixtures/tasks.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fanout-jobs-aws-'));

describe('fanout jobs against the aws job service on the emulators (spawned, a worker fleet)', { timeout: 180_000 }, () => {
  let config: AwsConfig;
  let env: Record<string, string>;
  let jobs: JobService;
  let backend: AwsBackend;
  let fleet: TestFleet | undefined;

  beforeAll(async () => {
    config = await provisionForTest('cli-jobs');
    env = configEnvironment(config);
    backend = new AwsBackend({ config });
    jobs = backend.jobs();
  });
  afterAll(async () => {
    await fleet?.stop();
    await backend?.close();
  });

  it('shows a queued job, watches it to its end (exit 1: items failed), prints its results and draws its timeline', async () => {
    const items = [1, 2, -3, 4, 5, -6, 7];
    const { jobId } = await jobs.submit({ task: 'failIfNegative', items, chunksize: 2 });
    const queued = await runCli(['jobs', 'status', jobId, '--json'], env);
    expect(queued).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(queued.stdout)).toMatchObject({
      jobId,
      task: 'failIfNegative',
      status: 'queued',
      total: 7,
      chunks: 4,
      source: 'api',
    });
    const partial = await runCli(['jobs', 'results', jobId], env);
    expect(partial).toMatchObject({ code: 0, stdout: '' });
    expect(partial.stderr).toContain(`job ${jobId} is queued: 0 of 7 items done`);

    fleet = startFleet(config, { threads: 2, concurrency: 2, tasks: [TASKS] });
    await fleet.ready;
    const watched = await runCli(['jobs', 'watch', jobId], env);
    expect(watched.stdout).toBe(`job ${jobId} failed: 5 of 7 items succeeded, 2 failed\n`);
    expect(watched.code).toBe(1);
    expect(watched.stderr).toMatch(new RegExp(`failIfNegative ${jobId} \\[=+\\] 7/7 +100\\.0%`));

    const results = await runCli(['jobs', 'results', jobId, '--json'], env);
    expect(results).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(results.stdout)).toEqual({
      jobId,
      complete: true,
      results: [1, 2, null, 4, 5, null, 7],
      errors: [
        { index: 2, name: 'ValidationError', message: 'negative input -3' },
        { index: 5, name: 'ValidationError', message: 'negative input -6' },
      ],
    });
    const lines = await runCli(['jobs', 'results', jobId], env);
    expect(
      lines.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { index: number })
        .map((line) => line.index),
    ).toEqual([0, 1, 2, 3, 4, 5, 6]);

    const file = join(dir, 'timeline.html');
    const timeline = await runCli(['jobs', 'timeline', jobId, '--out', file], env);
    expect(timeline).toMatchObject({
      code: 0,
      stderr: '',
      stdout: `wrote ${file}: html timeline of 4 of 4 chunks of job ${jobId}\n`,
    });
    const page = readFileSync(file, 'utf8');
    expect(new Set(page.match(/data-chunk="\d+"/g))).toEqual(new Set([0, 1, 2, 3].map((chunk) => `data-chunk="${chunk}"`)));

    const list = await runCli(['jobs', 'list', '--json'], env);
    expect((JSON.parse(list.stdout) as { jobs: Array<{ jobId: string }> }).jobs.map((job) => job.jobId)).toContain(jobId);
  });

  it('watches a job that succeeds (exit 0), and one cancelled from the CLI before any worker ran it (exit 3)', async () => {
    fleet ??= startFleet(config, { threads: 2, concurrency: 2, tasks: [TASKS] });
    await fleet.ready;
    const good = await jobs.submit({ task: 'square', items: [1, 2, 3, 4, 5, 6], chunksize: 3 });
    const watched = await runCli(['jobs', 'watch', good.jobId], env);
    expect(watched).toMatchObject({ code: 0, stdout: `job ${good.jobId} succeeded: 6 of 6 items succeeded, 0 failed\n` });
    const waited = await runCli(['jobs', 'results', good.jobId, '--wait', '--json'], env);
    expect(JSON.parse(waited.stdout)).toMatchObject({ complete: true, results: [1, 4, 9, 16, 25, 36], errors: [] });

    // Cancelled while no worker runs: every chunk is skipped once one does.
    await fleet.stop();
    fleet = undefined;
    const later = await jobs.submit({ task: 'square', items: [1, 2, 3, 4], chunksize: 1 });
    const cancel = await runCli(['jobs', 'cancel', later.jobId], env);
    expect(cancel).toEqual({
      code: 0,
      signal: null,
      stderr: '',
      stdout: `job ${later.jobId} cancelled (0 of 4 items had finished)\n`,
    });
    fleet = startFleet(config, { threads: 2, concurrency: 2, tasks: [TASKS] });
    await fleet.ready;
    const cancelled = await runCli(['jobs', 'watch', later.jobId], env);
    expect(cancelled).toMatchObject({ code: 3, stdout: `job ${later.jobId} cancelled: 0 of 4 items succeeded, 0 failed\n` });
    await waitFor(async () => (await jobs.status(later.jobId)).chunksDone === 4, 60_000, 'the cancelled chunks to be skipped');
    expect(await jobs.status(later.jobId)).toMatchObject({ status: 'cancelled', done: 0, chunksDone: 4 });
  });

  it('says in one line that an id is unknown, and exits 1', async () => {
    const run = await runCli(['jobs', 'status', '0000000000000000000000zzzz'], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^fanout jobs status: No job '0000000000000000000000zzzz' in /);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

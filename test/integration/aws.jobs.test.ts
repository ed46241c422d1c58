import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { Job } from '../../lib/api/Job.js';
import { JobNotFoundError } from '../../lib/errors.js';
import { square } from '../fixtures/tasks.js';
import { awsFail } from '../fixtures/awsTasks.js';
import { awsContext, provisionForTest, startFleet } from './awsHarness.js';
import { configEnvironment } from '../../lib/backends/aws/emulator.js';
import { runProgram } from '../examples/runExample.js';

const TASKS = fileURLToPath(new URL('../fixtures/tasks.ts', import.meta.url));

// Jobs that outlive their caller, on the emulators with the real worker handler (a fleet here).
describe('jobs on aws (emulators, a worker fleet)', () => {
  it('a mapAsync call is a job: attached by id, it gives the same results, status, pages and chunk runs', async () => {
    const config = await provisionForTest('jobs-pool');
    const fleet = startFleet(config, { threads: 2, concurrency: 2 });
    try {
      await fleet.ready;
      const { context } = awsContext(config);
      await using pool = new context.Pool(4);
      const items = Array.from({ length: 50 }, (_, i) => i);
      const result = pool.mapAsync(square, items, { chunksize: 7 });
      const job = result.job!;
      expect(job.id).toMatch(/^[0-9a-z]{26}$/);
      await job.sent();
      expect(await result.get()).toEqual(items.map((x) => x * x));
      const attached = Job.attach<number>(job.id, new AwsBackend({ config }));
      expect(await attached.get()).toEqual(items.map((x) => x * x));
      const status = await attached.status();
      expect(status).toMatchObject({
        jobId: job.id,
        task: 'square',
        status: 'succeeded',
        total: 50,
        done: 50,
        failed: 0,
        chunks: 8,
        chunksDone: 8,
        chunksize: 7,
        starmap: false,
        source: 'pool',
      });
      const jobs = new AwsBackend({ config }).jobs();
      const first = await jobs.results(job.id, { maxItems: 10 });
      expect(first.from).toBe(0);
      expect(first.results).toEqual(items.slice(0, 14).map((x) => x * x));
      expect(first.next).toBeDefined();
      const second = await jobs.results(job.id, { next: first.next, maxItems: 100 });
      expect(second.from).toBe(14);
      expect(second.results).toEqual(items.slice(14).map((x) => x * x));
      expect(second.next).toBeUndefined();
      const runs = await jobs.chunkRuns(job.id);
      expect(runs.map((run) => run.chunk)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      const seen: number[] = [];
      for await (const item of attached.asCompleted()) seen.push(item.index);
      expect(seen.sort((a, b) => a - b)).toEqual(items);
      expect((await jobs.list()).jobs.map((each) => each.jobId)).toContain(job.id);
    } finally {
      await fleet.stop();
    }
  }, 120_000);

  it('a submitted job runs without its submitter; failures are per item; cancel skips the rest; unknown ids are JobNotFoundError', async () => {
    const config = await provisionForTest('jobs-api');
    const jobs = new AwsBackend({ config }).jobs();
    const { jobId, total } = await jobs.submit({ task: awsFail.name, items: [1, -1, 2], chunksize: 1 });
    expect(total).toBe(3);
    expect((await jobs.status(jobId)).status).toBe('queued');
    const fleet = startFleet(config, {
      threads: 2,
      concurrency: 2,
      tasks: [fileURLToPath(new URL('../fixtures/awsTasks.ts', import.meta.url)), TASKS],
    });
    try {
      await fleet.ready;
      const attached = Job.attach(jobId, new AwsBackend({ config }));
      await expect(attached.get()).rejects.toThrow(/no good: 1/);
      const page = await jobs.results(jobId);
      expect(page.results).toEqual([null, null, null]);
      expect(page.errors).toEqual([0, 1, 2].map((index) => ({ index, name: 'Error', message: `no good: ${[1, -1, 2][index]}` })));
      expect(await jobs.status(jobId)).toMatchObject({ status: 'failed', done: 3, failed: 3, source: 'api' });
      await expect(jobs.status('0'.repeat(26))).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(jobs.status('nope')).rejects.toBeInstanceOf(JobNotFoundError);
    } finally {
      await fleet.stop();
    }
    const cancelled = await jobs.submit({ task: square.name, items: [1, 2, 3, 4], chunksize: 1 });
    expect((await jobs.cancel(cancelled.jobId)).status).toBe('cancelled');
    const again = startFleet(config, { threads: 2, concurrency: 2, tasks: [TASKS] });
    try {
      await again.ready;
      const attached = Job.attach(cancelled.jobId, new AwsBackend({ config }));
      await expect(attached.get()).rejects.toThrow(/cancelled/);
      const status = await jobs.status(cancelled.jobId);
      expect(status).toMatchObject({ status: 'cancelled', done: 0, chunksDone: 4 });
    } finally {
      await again.stop();
    }
  }, 120_000);
});

describe('a job outlives the process that started it (emulators, a worker fleet)', () => {
  it('a program starts a job, detaches it and ends; another process attaches and collects every result', async () => {
    const config = await provisionForTest('jobs-outlive');
    const run = await runProgram('test/fixtures/programs/startDetachedJob.ts', 90_000, configEnvironment(config));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { jobId } = JSON.parse(run.stdout.trim()) as { jobId: string };
    const attached = Job.attach<number>(jobId, new AwsBackend({ config }));
    expect(await attached.status()).toMatchObject({ status: 'queued' });
    const fleet = startFleet(config, { threads: 2, concurrency: 2 });
    try {
      await fleet.ready;
      expect(await attached.get(60_000)).toEqual(Array.from({ length: 30 }, (_, i) => i * i));
      expect(await attached.status()).toMatchObject({ status: 'succeeded', done: 30, total: 30, chunks: 8 });
    } finally {
      await fleet.stop();
    }
  }, 120_000);
});

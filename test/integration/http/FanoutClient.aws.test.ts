import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsBackend } from '../../../lib/backends/aws/AwsBackend.js';
import type { AwsConfig } from '../../../lib/backends/aws/AwsConfig.js';
import { ApiError, JobCancelledError, RemoteError } from '../../../lib/errors.js';
import { FanoutClient } from '../../../lib/http/FanoutClient.js';
import type { FunctionUrlAdapter } from '../../../lib/http/FunctionUrlAdapter.js';
import { provisionForTest, startFleet, waitFor, type TestFleet } from '../awsHarness.js';
import { API_CREDENTIALS, API_REGION, startRealJobsApi } from './jobsApiDouble.js';
// Registers the tasks in this process, which submits the jobs (as the API's bundle does).
import '../../fixtures/tasks.js';

const TASKS = fileURLToPath(new URL('../../fixtures/tasks.ts', import.meta.url));

/** Every request the client sent, as `METHOD /path?query`. */
function recordingFetch(log: string[]): typeof fetch {
  return (input, init) => {
    const url = new URL(String(input));
    log.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    return fetch(input, init);
  };
}

describe('FanoutClient against the real jobs API (the api handler over AwsJobService and S3 uploads) on the emulators with a worker fleet, signed behind FunctionUrlAdapter', () => {
  let config: AwsConfig;
  let backend: AwsBackend;
  let fleet: TestFleet | undefined;
  let adapter: FunctionUrlAdapter;
  const sent: string[] = [];
  let client: FanoutClient;

  beforeAll(async () => {
    config = await provisionForTest('client-aws');
    backend = new AwsBackend({ config });
    adapter = await startRealJobsApi(backend);
    client = new FanoutClient({
      url: adapter.url,
      credentials: API_CREDENTIALS,
      region: API_REGION,
      fetch: recordingFetch(sent),
    });
    fleet = startFleet(config, { threads: 2, concurrency: 2, tasks: [TASKS] });
    await fleet.ready;
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await adapter?.stop();
    await backend?.close();
  });

  it('streams a job with failed items in input order, rejects waitForResults with the first, and pages the same results', async () => {
    const items = Array.from({ length: 25 }, (_, i) => (i % 7 === 3 ? -i : i));
    const { jobId, total } = await client.submit({ task: 'failIfNegative', items, chunksize: 4 });
    expect(total).toBe(25);
    const streamed: string[] = [];
    for await (const item of client.stream<number>(jobId, { timeout: 60_000 })) {
      streamed.push(
        'error' in item ? `${item.index}:${item.error.remoteName}:${item.error.remoteMessage}` : `${item.index}=${item.value}`,
      );
    }
    expect(streamed).toEqual(items.map((x, i) => (x < 0 ? `${i}:ValidationError:negative input ${x}` : `${i}=${x}`)));

    const failure = await client.waitForResults(jobId).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RemoteError);
    expect(failure).toMatchObject({
      taskName: 'failIfNegative',
      remoteMessage: 'negative input -3',
      remoteProperties: { index: 3 },
    });
    expect(await client.status(jobId)).toMatchObject({ jobId, status: 'failed', total: 25, done: 25, failed: 4, source: 'api' });

    const pages = [await client.results(jobId, { limit: 10 })];
    while (pages.at(-1)!.next) pages.push(await client.results(jobId, { next: pages.at(-1)!.next, limit: 10 }));
    expect(pages.flatMap((page) => page.results)).toEqual(items.map((x) => (x < 0 ? null : x)));
    expect(pages.flatMap((page) => page.errors.map((error) => error.index))).toEqual([3, 10, 17, 24]);
    expect((await client.list({ limit: 5 })).jobs.map((job) => job.jobId)).toContain(jobId);
  });

  it('waits for a 200-item job: every result in input order, with the requests counted', async () => {
    const items = Array.from({ length: 200 }, (_, i) => i);
    const { jobId } = await client.submit({ task: 'square', items, chunksize: 7 });
    sent.length = 0;
    expect(await client.waitForResults<number>(jobId, { timeout: 60_000 })).toEqual(items.map((x) => x * x));
    const pageReads = sent.filter((line) => line.startsWith(`GET /jobs/${jobId}/results`)).length;
    const statusReads = sent.filter((line) => line === `GET /jobs/${jobId}`).length;
    expect(pageReads).toBeGreaterThanOrEqual(1);
    // At most one page read per status read that saw progress, plus one per page of results.
    expect(pageReads).toBeLessThanOrEqual(statusReads + 1 + Math.ceil(200 / 100) + 29);
  });

  it('sends a big item list through an upload to S3 (presigned PUT on the emulator), and reads the job back', async () => {
    const small = new FanoutClient({
      url: adapter.url,
      credentials: API_CREDENTIALS,
      region: API_REGION,
      maxInlineBytes: 1000,
      fetch: recordingFetch(sent),
    });
    const items = Array.from({ length: 500 }, (_, i) => i);
    sent.length = 0;
    const { jobId, total } = await small.submit({ task: 'square', items, chunksize: 50 });
    expect(total).toBe(500);
    expect(sent.slice(0, 3).map((line) => line.split(' ')[0])).toEqual(['POST', 'PUT', 'POST']);
    expect(sent[0]).toBe('POST /uploads');
    expect(sent[2]).toBe('POST /jobs');
    expect(await small.waitForResults<number>(jobId, { timeout: 60_000 })).toEqual(items.map((x) => x * x));
  });

  it('ends the wait of a job cancelled meanwhile with JobCancelledError; an unknown id is a 404 ApiError', async () => {
    await fleet?.stop();
    fleet = undefined;
    try {
      const { jobId } = await client.submit({ task: 'square', items: [1, 2, 3, 4], chunksize: 1 });
      const waiting = client.waitForResults(jobId, { timeout: 30_000 }).catch((e: unknown) => e);
      expect(await client.cancel(jobId)).toEqual({ jobId, status: 'cancelled' });
      const error = await waiting;
      expect(error).toBeInstanceOf(JobCancelledError);
      expect(error).toMatchObject({ jobId, message: expect.stringMatching(/of task 'square' was cancelled/) });
      fleet = startFleet(config, { threads: 2, concurrency: 2, tasks: [TASKS] });
      await fleet.ready;
      // Once the workers have skipped its chunks, its items say so, and the wait is still a cancellation.
      await waitFor(async () => (await client.status(jobId)).chunksDone === 4, 60_000, 'the chunks to be skipped');
      const streamed: string[] = [];
      for await (const item of client.stream(jobId)) streamed.push('error' in item ? item.error.remoteName : 'value');
      expect(streamed).toEqual(Array(4).fill('JobCancelledError'));
      await expect(client.waitForResults(jobId)).rejects.toBeInstanceOf(JobCancelledError);
    } finally {
      fleet ??= startFleet(config, { threads: 2, concurrency: 2, tasks: [TASKS] });
      await fleet.ready;
    }
    const missing = await client.status('0000000000000000000000zzzz').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, apiCode: 'ERR_JOB_NOT_FOUND' });
  });
});

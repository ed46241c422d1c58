import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler, jobApiFor } from '../../../functions/api/handler.js';
import { AwsBackend } from '../../../lib/backends/aws/AwsBackend.js';
import type { AwsConfig } from '../../../lib/backends/aws/AwsConfig.js';
import { configEnvironment } from '../../../lib/backends/aws/emulator.js';
import { FunctionUrlAdapter, type FunctionUrlEvent } from '../../../lib/http/FunctionUrlAdapter.js';
import { SigV4Verifier } from '../../../lib/http/SigV4Verifier.js';
import { signedFetch } from '../../../lib/http/signedFetch.js';
import { TaskRegistry } from '../../../lib/runtime/TaskRegistry.js';
import { bucketKeys, provisionForTest, startFleet, waitFor, type TestFleet } from '../awsHarness.js';
// Registers the tasks in this process, as the API's bundle registers the worker's task modules.
import '../../fixtures/tasks.js';

const CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };
const SIGNING = { region: 'us-east-1', credentials: CREDENTIALS };
const TASKS = fileURLToPath(new URL('../../fixtures/tasks.ts', import.meta.url));

interface Status {
  jobId: string;
  task: string;
  status: string;
  total: number;
  done: number;
  failed: number;
}
interface Page {
  from: number;
  results: unknown[];
  errors: Array<{ index: number; name: string; message: string }>;
  next?: string;
  waiting: boolean;
}

describe('the jobs API over the real AwsJobService on the emulators, through signed HTTP, with a worker fleet', () => {
  let config: AwsConfig;
  let fleet: TestFleet;
  let adapter: FunctionUrlAdapter;
  const logged: unknown[] = [];

  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T; headers: Headers }> => {
    const response = await signedFetch(`${adapter.url}${path}`, {
      ...SIGNING,
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as T, headers: response.headers };
  };
  const finished = async (jobId: string): Promise<Status> => {
    let status: Status | undefined;
    await waitFor(
      async () => {
        status = (await call<Status>('GET', `/jobs/${jobId}`)).body;
        return ['succeeded', 'failed', 'cancelled'].includes(status.status);
      },
      60_000,
      `job ${jobId} to finish`,
    );
    return status!;
  };
  const allResults = async (
    jobId: string,
    limit: number,
  ): Promise<{ pages: Page[]; results: unknown[]; errors: Page['errors'] }> => {
    const pages: Page[] = [];
    let next: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(limit), ...(next ? { next } : {}) });
      const page = await call<Page>('GET', `/jobs/${jobId}/results?${query}`);
      expect(page.status).toBe(200);
      pages.push(page.body);
      next = page.body.next;
    } while (next);
    return { pages, results: pages.flatMap((page) => page.results), errors: pages.flatMap((page) => page.errors) };
  };

  beforeAll(async () => {
    config = await provisionForTest('api-aws');
    fleet = startFleet(config, { threads: 2, concurrency: 2, tasks: [TASKS] });
    await fleet.ready;
    const api = jobApiFor(new AwsBackend({ config }));
    adapter = await FunctionUrlAdapter.start({
      verifier: new SigV4Verifier({ credentials: [CREDENTIALS], region: 'us-east-1' }),
      handler: async (event: FunctionUrlEvent) => {
        const response = await api.handle(event);
        if (response.statusCode >= 500) logged.push(response.body);
        return response;
      },
    });
  }, 120_000);
  afterAll(async () => {
    await adapter?.stop();
    await fleet?.stop();
  });

  it('POST /jobs runs the job on the fleet; GET status and result pages read it back in input order, errors where items failed', async () => {
    const items = Array.from({ length: 25 }, (_, i) => (i % 7 === 3 ? -i : i));
    const submitted = await call<{ jobId: string; total: number }>('POST', '/jobs', {
      task: 'failIfNegative',
      items,
      chunksize: 4,
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toEqual({ jobId: expect.stringMatching(/^[0-9a-z]{26}$/), total: 25 });
    expect(submitted.headers.get('location')).toBe(`/jobs/${submitted.body.jobId}`);
    const status = await finished(submitted.body.jobId);
    expect(status).toMatchObject({
      jobId: submitted.body.jobId,
      task: 'failIfNegative',
      status: 'failed',
      total: 25,
      done: 25,
      failed: 4,
    });

    const { pages, results, errors } = await allResults(submitted.body.jobId, 10);
    // Chunks of 4 from the service, pages of at most 10 from the API, each starting where the last ended.
    expect(pages.map((page) => page.from)).toEqual([0, 10, 20]);
    expect(pages.map((page) => page.results.length)).toEqual([10, 10, 5]);
    expect(pages.every((page) => !page.waiting)).toBe(true);
    expect(results).toEqual(items.map((x) => (x < 0 ? null : x)));
    expect(errors).toEqual(
      [3, 10, 17, 24].map((index) => ({ index, name: 'ValidationError', message: `negative input ${-index}` })),
    );
  });

  it('GET /jobs lists jobs newest first, with limit and next', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await call<{ jobId: string }>('POST', '/jobs', { task: 'square', items: [i] })).body.jobId);
    const first = await call<{ jobs: Status[]; next?: string }>('GET', '/jobs?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.jobs.map((job) => job.jobId)).toEqual([ids[2], ids[1]]);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await call<{ jobs: Status[] }>('GET', `/jobs?limit=2&next=${encodeURIComponent(first.body.next!)}`);
    expect(second.body.jobs[0]?.jobId).toBe(ids[0]);
    for (const id of ids) await finished(id);
  });

  it('starmap jobs, and results that only the codec carries come back by the JSON rules', async () => {
    const starmap = await call<{ jobId: string }>('POST', '/jobs', {
      task: 'add',
      items: [
        [1, 2],
        [3, 4],
      ],
      starmap: true,
    });
    expect(starmap.status).toBe(202);
    await finished(starmap.body.jobId);
    expect((await allResults(starmap.body.jobId, 100)).results).toEqual([3, 7]);

    // A `__proto__` key in an item travels as an ordinary key and comes back as one.
    const item = JSON.parse('{"__proto__":{"polluted":true},"a":[null,"x"]}') as object;
    const echo = await call<{ jobId: string }>('POST', '/jobs', { task: 'echo', items: [item, 'text', 1.5] });
    expect(echo.status).toBe(202);
    await finished(echo.body.jobId);
    const [first, ...rest] = (await allResults(echo.body.jobId, 100)).results;
    expect(Object.keys(first as object)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(first)).toBe('{"__proto__":{"polluted":true},"a":[null,"x"]}');
    expect(rest).toEqual(['text', 1.5]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('DELETE /jobs/{id} cancels a running job: 202 {jobId, status: cancelled}, and its status says so', async () => {
    const submitted = await call<{ jobId: string }>('POST', '/jobs', {
      task: 'sleep',
      items: new Array(40).fill(200),
      chunksize: 1,
    });
    expect(submitted.status).toBe(202);
    const cancelled = await call<{ jobId: string; status: string }>('DELETE', `/jobs/${submitted.body.jobId}`);
    expect(cancelled).toMatchObject({ status: 202, body: { jobId: submitted.body.jobId, status: 'cancelled' } });
    expect((await call<Status>('GET', `/jobs/${submitted.body.jobId}`)).body.status).toBe('cancelled');
    expect((await call<Status>('DELETE', `/jobs/${submitted.body.jobId}`)).status).toBe(202);
  });

  it('refuses what the real service refuses: an unknown job (404), a bad page token (400), a task this process has not registered (400)', async () => {
    const unknown = await call<{ error: { code: string } }>('GET', `/jobs/${'0'.repeat(26)}`);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'ERR_JOB_NOT_FOUND' } } });
    expect((await call('GET', `/jobs/${'0'.repeat(26)}/results`)).status).toBe(404);
    expect((await call('DELETE', `/jobs/${'0'.repeat(26)}`)).status).toBe(404);

    const { body } = await call<{ jobId: string }>('POST', '/jobs', { task: 'square', items: [1, 2] });
    const badToken = await call<{ error: { code: string } }>('GET', `/jobs/${body.jobId}/results?next=not-a-token`);
    expect(badToken).toMatchObject({ status: 400, body: { error: { code: 'ERR_INVALID_ARGUMENT' } } });
    expect((await call('GET', '/jobs?next=not-a-token')).status).toBe(400);

    const cube = await call<{ error: { code: string; message: string } }>('POST', '/jobs', { task: 'cube', items: [1] });
    expect(cube.status).toBe(400);
    expect(cube.body.error.code).toBe('ERR_UNKNOWN_TASK');
    expect(cube.body.error.message).toContain("'square'");
    expect(TaskRegistry.current.names()).toContain('square');
    await finished(body.jobId);
    expect(logged).toEqual([]);
  });

  it('POST /uploads, PUT the items to the presigned URL, POST /jobs {itemsUpload}: the job runs them and the upload is gone', async () => {
    const created = await call<{ uploadId: string; url: string; method: string }>('POST', '/uploads');
    expect(created.status).toBe(201);
    const items = Array.from({ length: 300 }, (_, i) => i);
    expect((await fetch(created.body.url, { method: 'PUT', body: JSON.stringify(items) })).status).toBe(200);
    const submitted = await call<{ jobId: string; total: number }>('POST', '/jobs', {
      task: 'square',
      itemsUpload: created.body.uploadId,
      chunksize: 50,
    });
    expect(submitted).toMatchObject({ status: 202, body: { total: 300 } });
    expect(await bucketKeys(config)).not.toContain(`uploads/${created.body.uploadId}`);
    expect(await finished(submitted.body.jobId)).toMatchObject({ status: 'succeeded', done: 300 });
    expect((await allResults(submitted.body.jobId, 1000)).results).toEqual(items.map((x) => x * x));
  });

  it("answers curl --aws-sigv4, as the docs show it (and 415 to curl's -d without a JSON content type)", async () => {
    const user = `${CREDENTIALS.accessKeyId}:${CREDENTIALS.secretAccessKey}`;
    const curl = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)('curl', [
        '-sS',
        '-w',
        '\n%{http_code}',
        '--aws-sigv4',
        'aws:amz:us-east-1:lambda',
        '--user',
        user,
        ...args,
      ]);
      const cut = stdout.lastIndexOf('\n');
      return { status: Number(stdout.slice(cut + 1)), body: JSON.parse(stdout.slice(0, cut)) as Record<string, unknown> };
    };
    const posted = await curl(
      '-H',
      'content-type: application/json',
      '-d',
      '{"task":"square","items":[1,2,3]}',
      `${adapter.url}/jobs`,
    );
    expect(posted).toMatchObject({ status: 202, body: { total: 3 } });
    const jobId = posted.body.jobId as string;
    await finished(jobId);
    expect(await curl(`${adapter.url}/jobs/${jobId}/results`)).toMatchObject({
      status: 200,
      body: { results: [1, 4, 9], errors: [] },
    });
    const ticket = await curl('-X', 'POST', `${adapter.url}/uploads`);
    expect(ticket).toMatchObject({ status: 201, body: { method: 'PUT' } });
    const { stdout: put } = await promisify(execFile)('curl', [
      '-sS',
      '-w',
      '%{http_code}',
      '-X',
      'PUT',
      '-H',
      'content-type: application/json',
      '--data-binary',
      '[4,5]',
      ticket.body.url as string,
    ]);
    expect(put).toBe('200');
    const fromUpload = await curl(
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify({ task: 'square', itemsUpload: ticket.body.uploadId }),
      `${adapter.url}/jobs`,
    );
    expect(fromUpload).toMatchObject({ status: 202, body: { total: 2 } });
    await finished(fromUpload.body.jobId as string);
    const form = await curl('-d', '{"task":"square","items":[1]}', `${adapter.url}/jobs`);
    expect(form).toMatchObject({ status: 415, body: { error: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE' } } });
  });

  it("the Lambda's middy handler, configured from the environment as the stack configures it, answers the same routes", async () => {
    for (const [name, value] of Object.entries(configEnvironment(config))) vi.stubEnv(name, value);
    try {
      const event = (method: string, path: string, body?: string): FunctionUrlEvent =>
        ({
          version: '2.0',
          routeKey: '$default',
          rawPath: path,
          rawQueryString: '',
          headers: { 'content-type': 'application/json' },
          requestContext: { http: { method, path }, requestId: 'handler-test' },
          isBase64Encoded: false,
          ...(body ? { body } : {}),
        }) as unknown as FunctionUrlEvent;
      const submitted = await handler(event('POST', '/jobs', '{"task":"square","items":[5]}'), {} as never);
      expect(submitted.statusCode).toBe(202);
      const { jobId } = JSON.parse(submitted.body) as { jobId: string };
      const status = await handler(event('GET', `/jobs/${jobId}`), {} as never);
      expect(status.statusCode).toBe(200);
      expect(JSON.parse(status.body)).toMatchObject({ jobId, task: 'square', total: 1 });
      const wrong = await handler(event('PUT', '/jobs'), {} as never);
      expect([wrong.statusCode, wrong.headers['allow']]).toEqual([405, 'GET, POST']);
      await finished(jobId);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FanoutClient, type StreamedResult } from '../../../lib/http/FanoutClient.js';
import {
  AbortError,
  ApiError,
  ApiUnreachableError,
  InvalidArgumentError,
  JobCancelledError,
  RemoteError,
  TimeoutError,
} from '../../../lib/errors.js';
import * as fanout from '../../../lib/index.js';
import type { FunctionUrlAdapter } from '../../../lib/http/FunctionUrlAdapter.js';
import { JobServiceDouble } from '../../fixtures/JobServiceDouble.js';
import { API_CREDENTIALS, API_REGION, startJobsApiDouble, startUploadsDouble, type UploadsDouble } from './jobsApiDouble.js';

/** Every request the client sent, as `METHOD /path?query`. */
function recordingFetch(log: string[]): typeof fetch {
  return (input, init) => {
    const url = new URL(String(input));
    log.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    return fetch(input, init);
  };
}

describe('FanoutClient against a test-double API (the issue routes over a JobService double, served signed by FunctionUrlAdapter)', () => {
  const jobs = new JobServiceDouble();
  const sent: string[] = [];
  let adapter: FunctionUrlAdapter;
  let client: FanoutClient;
  let uploads: UploadsDouble;

  beforeAll(async () => {
    uploads = await startUploadsDouble(4096);
    adapter = await startJobsApiDouble(jobs, uploads);
    client = new FanoutClient({
      url: adapter.url,
      credentials: API_CREDENTIALS,
      region: API_REGION,
      fetch: recordingFetch(sent),
    });
  });
  afterAll(async () => {
    await adapter?.stop();
    await uploads?.stop();
  });
  afterEach(() => {
    jobs.finishPerStatusRead = 0;
    jobs.reverse = false;
    sent.length = 0;
    vi.unstubAllEnvs();
  });

  it('is exported from the package with its errors', () => {
    expect(fanout.FanoutClient).toBe(FanoutClient);
    expect(new fanout.ApiError('GET x', 404, 'ERR_X', 'm').code).toBe('ERR_API');
    expect(fanout.ApiUnreachableError).toBe(ApiUnreachableError);
  });

  it('submits, reads the status, pages the results and cancels, over signed requests', async () => {
    const submitted = await client.submit({ task: 'square', items: [1, 2, 3, 4, 5, 6, 7], chunksize: 2 });
    expect(submitted).toEqual({ jobId: expect.stringMatching(/^[0-9a-z]{26}$/), total: 7 });
    const { jobId } = submitted;
    expect(await client.status(jobId)).toMatchObject({ jobId, task: 'square', status: 'queued', total: 7, done: 0, failed: 0 });

    // Nothing finished: an empty page that says where to read again.
    expect(await client.results(jobId)).toEqual({ results: [], errors: [], next: 'o0' });
    jobs.finishChunks(jobId);
    const first = await client.results(jobId);
    expect(first).toEqual({ results: [1, 4, 9, 16], errors: [], next: 'o4' });
    const second = await client.results(jobId, { next: first.next });
    expect(second).toEqual({ results: [25, 36, 49], errors: [] });
    expect(await client.results(jobId, { next: 'o1', limit: 2 })).toEqual({ results: [4, 9], errors: [], next: 'o3' });
    expect(await client.status(jobId)).toMatchObject({ status: 'succeeded', done: 7 });

    const other = await client.submit({ task: 'add', items: [[1, 2]], starmap: true });
    expect(await client.cancel(other.jobId)).toEqual({ jobId: other.jobId, status: 'cancelled' });
    expect(await client.status(other.jobId)).toMatchObject({ status: 'cancelled' });
    expect(sent).toEqual([
      'POST /jobs',
      `GET /jobs/${jobId}`,
      `GET /jobs/${jobId}/results`,
      `GET /jobs/${jobId}/results`,
      `GET /jobs/${jobId}/results?next=o4`,
      `GET /jobs/${jobId}/results?next=o1&limit=2`,
      `GET /jobs/${jobId}`,
      'POST /jobs',
      `DELETE /jobs/${other.jobId}`,
      `GET /jobs/${other.jobId}`,
    ]);
  });

  it('sends items too big for a body through an upload: POST /uploads, a PUT to its presigned URL, POST /jobs with itemsUpload', async () => {
    const small = new FanoutClient({
      url: adapter.url,
      credentials: API_CREDENTIALS,
      region: API_REGION,
      maxInlineBytes: 100,
      fetch: recordingFetch(sent),
    });
    const items = [...Array(50).keys()];
    const { jobId, total } = await small.submit({ task: 'square', items, chunksize: 10 });
    expect(total).toBe(50);
    expect(sent.map((line) => line.replace(/\/[0-9a-f]{26}\?/, '/ID?'))).toEqual([
      'POST /uploads',
      'PUT /ID?X-Amz-Signature=presigned',
      'POST /jobs',
    ]);
    expect(uploads.requests.at(-1)).toMatch(/^PUT \/[0-9a-f]{26} application\/json$/);
    expect(JSON.parse([...uploads.store.values()].at(-1)!)).toEqual(items);
    expect(await jobs.status(jobId)).toMatchObject({ total: 50, chunksize: 10 });
    jobs.finishChunks(jobId);
    expect(await small.waitForResults(jobId)).toEqual(items.map((x) => x * x));

    // Over the upload's own limit (4 KiB here): refused before the PUT.
    const count = uploads.requests.length;
    await expect(small.submit({ task: 'square', items: Array(3000).fill(1) })).rejects.toThrow(
      /items must be at most 4096 bytes of JSON \(the API's upload limit\); got '6001 bytes of JSON'/,
    );
    expect(uploads.requests.length).toBe(count);
    // Items JSON cannot carry: refused before any request.
    await expect(small.submit({ task: 'square', items: [1n] })).rejects.toThrow(/items must be JSON values.*BigInt/);
  });

  it('lists jobs newest first, a page at a time', async () => {
    const a = await client.submit({ task: 'square', items: [1] });
    const b = await client.submit({ task: 'square', items: [2] });
    const page = await client.list({ limit: 1 });
    expect(page.jobs.map((job) => job.jobId)).toEqual([b.jobId]);
    expect(page.next).toBe('l1');
    const rest = await client.list({ limit: 1, next: page.next! });
    expect(rest.jobs.map((job) => job.jobId)).toEqual([a.jobId]);
    expect(sent.slice(-2)).toEqual(['GET /jobs?limit=1', 'GET /jobs?limit=1&next=l1']);
  });

  it('waits for every result in input order while chunks finish last-first, polling the status with back-off', async () => {
    jobs.reverse = true;
    const items = [...Array(10).keys()];
    const { jobId } = await client.submit({ task: 'square', items, chunksize: 2 });
    jobs.finishPerStatusRead = 1; // each status read, one more chunk (the last first) finishes
    expect(await client.waitForResults<number>(jobId)).toEqual(items.map((x) => x * x));
    const statusReads = sent.filter((line) => line === `GET /jobs/${jobId}`).length;
    const pageReads = sent.filter((line) => line.startsWith(`GET /jobs/${jobId}/results`)).length;
    // Five chunks, one per status read: chunk 0 (the first page) finishes at the fifth read.
    expect(statusReads).toBe(5);
    // The first empty page, then one after each status read that saw progress, then the
    // second page of the finished job (four results a page).
    expect(pageReads).toBeLessThanOrEqual(statusReads + 3);
    expect(sent.filter((line) => line.includes('?next=o4')).length).toBe(1);
  });

  it('streams values and errors in input order; waitForResults rejects with the first failed item', async () => {
    const { jobId } = await client.submit({ task: 'failOdd', items: [0, 1, 2, 3, 4], chunksize: 1 });
    jobs.finishChunks(jobId);
    const streamed: Array<StreamedResult<number>> = [];
    for await (const item of client.stream<number>(jobId)) streamed.push(item);
    expect(
      streamed.map((item) => ('error' in item ? `${item.index}:${item.error.remoteName}` : `${item.index}=${item.value}`)),
    ).toEqual(['0=0', '1:RangeError', '2=2', '3:RangeError', '4=4']);
    const error = (streamed[1] as { error: RemoteError }).error;
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ taskName: 'failOdd', remoteMessage: 'odd: 1', remoteProperties: { index: 1 } });

    const failure = await client.waitForResults(jobId).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RemoteError);
    expect(failure).toMatchObject({
      remoteName: 'RangeError',
      remoteMessage: 'odd: 1',
      message: "Task 'failOdd' failed in a worker: RangeError: odd: 1",
    });
  });

  it('passes results JSON has no form for as the API encodes them (null for undefined)', async () => {
    const { jobId } = await client.submit({ task: 'rich', items: [0, 1, 2, 3] });
    jobs.finishChunks(jobId);
    expect(await client.waitForResults(jobId)).toEqual([null, '1180591620717411303424', [['a', 1]], '2026-01-01T00:00:00.000Z']);
  });

  it('ends the wait of a cancelled job with JobCancelledError, and stops at a timeout or an abort without stopping the job', async () => {
    const { jobId } = await client.submit({ task: 'square', items: [1, 2, 3, 4], chunksize: 2 });
    jobs.finishChunks(jobId, 1);
    const timedOut = await client.waitForResults(jobId, { timeout: 300 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(TimeoutError);
    expect((timedOut as TimeoutError).message).toMatch(/timed out after 300 ms; the job goes on/);

    const controller = new AbortController();
    const aborted = client.waitForResults(jobId, { signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(new Error('user quit')), 50);
    const abortError = await aborted;
    expect(abortError).toBeInstanceOf(AbortError);
    expect((abortError as AbortError).cause).toEqual(new Error('user quit'));
    expect(await client.status(jobId)).toMatchObject({ status: 'running', done: 2 });

    const waiting = client.waitForResults(jobId).catch((e: unknown) => e);
    await client.cancel(jobId);
    const cancelled = await waiting;
    expect(cancelled).toBeInstanceOf(JobCancelledError);
    expect((cancelled as JobCancelledError).jobId).toBe(jobId);
  });

  it('turns error answers into ApiError with the HTTP status and the body code', async () => {
    const missing = await client.status('0000000000000000000000zzzz').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ code: 'ERR_API', status: 404, apiCode: 'ERR_JOB_NOT_FOUND' });
    expect((missing as ApiError).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/jobs\/0000000000000000000000zzzz answered 404 ERR_JOB_NOT_FOUND: No job/,
    );

    const unknownTask = await client.submit({ task: 'nope', items: [1] }).catch((e: unknown) => e);
    expect(unknownTask).toMatchObject({ status: 400, apiCode: 'ERR_UNKNOWN_TASK' });
    const badChunk = await client.submit({ task: 'square', items: [1], chunksize: 0 }).catch((e: unknown) => e);
    expect(badChunk).toMatchObject({ status: 400, apiCode: 'ERR_INVALID_ARGUMENT' });
    const { jobId } = await client.submit({ task: 'square', items: [1, 2, 3, 4, 5] });
    const badToken = await client.results(jobId, { next: 'forged' }).catch((e: unknown) => e);
    expect(badToken).toMatchObject({ status: 400, apiCode: 'ERR_INVALID_ARGUMENT' });

    // Over a Function URL's 6 MB request limit: the adapter's 413, as the deployed URL answers.
    const inline = new FanoutClient({
      url: adapter.url,
      credentials: API_CREDENTIALS,
      region: API_REGION,
      maxInlineBytes: 64 * 1024 * 1024,
    });
    const tooLarge = await inline.submit({ task: 'square', items: Array(800_000).fill(1234567) }).catch((e: unknown) => e);
    expect(tooLarge).toMatchObject({ status: 413, apiCode: 'ERR_BODY_TOO_LARGE' });

    const wrongSecret = new FanoutClient({
      url: adapter.url,
      region: API_REGION,
      credentials: { ...API_CREDENTIALS, secretAccessKey: 'guess' },
    });
    await expect(wrongSecret.list()).rejects.toMatchObject({ status: 403, apiCode: 'ERR_BAD_SIGNATURE' });
  });

  it("takes FANOUT_API_URL, and the SDK's default credentials (here the environment's)", async () => {
    vi.stubEnv('FANOUT_API_URL', `${adapter.url}/`);
    vi.stubEnv('AWS_ACCESS_KEY_ID', API_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', API_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_REGION', API_REGION);
    const fromEnvironment = new FanoutClient();
    expect(fromEnvironment.url).toBe(adapter.url);
    expect((await fromEnvironment.list()).jobs.length).toBeGreaterThan(0);
  });

  it('refuses bad arguments before sending anything', async () => {
    vi.stubEnv('FANOUT_API_URL', '');
    expect(() => new FanoutClient()).toThrow(/url must be the API's URL .*; got ''.*FANOUT_API_URL is not set either/);
    expect(() => new FanoutClient({ url: 'ftp://x' })).toThrow(InvalidArgumentError);
    expect(() => new FanoutClient({ url: adapter.url, region: 'Europe' })).toThrow(/region/);
    expect(() => new FanoutClient({ url: adapter.url, credentials: { accessKeyId: 1 } as never })).toThrow(/credentials/);
    const count = sent.length;
    await expect(client.status('../jobs')).rejects.toThrow(
      /client\.status\(jobId\) must be a job id: 26 lower-case letters and digits/,
    );
    await expect(client.results('x'.repeat(26), { next: '' })).rejects.toThrow(InvalidArgumentError);
    await expect(client.submit({ task: 'square', items: 'abc' as never })).rejects.toThrow(/items must be an array/);
    await expect(client.list({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(client.results('x'.repeat(26), { limit: 1.5 })).rejects.toThrow(/limit must be a whole number ≥ 1/);
    await expect(client.waitForResults('x'.repeat(26), { timeout: 'soon' as never })).rejects.toThrow(/timeout/);
    expect(sent.length).toBe(count);
  });
});

describe('FanoutClient: answers that are not the API', () => {
  it('names the URL when nothing answers (connection refused)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = new FanoutClient({ url: `http://127.0.0.1:${port}`, credentials: API_CREDENTIALS, region: API_REGION });
    const error = await client.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect((error as ApiUnreachableError).url).toBe(`http://127.0.0.1:${port}/jobs`);
    expect((error as Error).message).toMatch(
      new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/jobs got no answer: .*ECONNREFUSED.*FANOUT_API_URL`),
    );
  });

  it('stops a request that gets no answer at the timeout, with TimeoutError', async () => {
    const server = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new FanoutClient({ url: `http://127.0.0.1:${port}`, credentials: API_CREDENTIALS, region: API_REGION });
      const error = await client.waitForResults('a'.repeat(26), { timeout: 200 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).message).toMatch(/^client\.stream\('a{26}'\) timed out after 200 ms/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reports a non-JSON error page and a 200 of the wrong shape as ApiError', async () => {
    const server = createServer((request, response) => {
      if (request.url === '/jobs') {
        response.writeHead(502, { 'content-type': 'text/html' });
        response.end('<html><body>Bad Gateway</body></html>');
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"jobId": 42}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new FanoutClient({ url: `http://127.0.0.1:${port}`, credentials: API_CREDENTIALS, region: API_REGION });
      await expect(client.list()).rejects.toMatchObject({
        status: 502,
        apiCode: undefined,
        message: expect.stringContaining('answered 502: the answer is not a JSON error: <html><body>Bad Gateway</body></html>'),
      });
      await expect(client.status('a'.repeat(26))).rejects.toMatchObject({
        status: 200,
        message: expect.stringContaining('the answer is not a job status'),
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

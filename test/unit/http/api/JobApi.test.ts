import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ApiRefusal } from '../../../../lib/http/api/ApiRefusal.js';
import type { ItemUploads, UploadTicket } from '../../../../lib/http/api/ItemUploads.js';
import { JobApi, type ApiResponse } from '../../../../lib/http/api/JobApi.js';
import { DOUBLE_TASKS, JobServiceDouble } from './JobServiceDouble.js';

const TASKS = Object.keys(DOUBLE_TASKS).sort();

interface RequestSpec {
  body?: string;
  base64?: boolean;
  headers?: Record<string, string>;
  query?: string;
}

function event(method: string, path: string, spec: RequestSpec = {}): APIGatewayProxyEventV2 {
  const headers = { 'content-type': 'application/json', ...spec.headers };
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: spec.query ?? '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    isBase64Encoded: spec.base64 ?? false,
    ...(spec.body !== undefined ? { body: spec.body } : {}),
  };
}

function body(response: ApiResponse): Record<string, unknown> {
  expect(response.headers['content-type']).toBe('application/json');
  return JSON.parse(response.body) as Record<string, unknown>;
}

function errorOf(response: ApiResponse): { code: string; message: string } {
  const parsed = body(response) as { error: { code: string; message: string } };
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message']);
  return parsed.error;
}

function setup(options: ConstructorParameters<typeof JobApi>[2] = {}) {
  const jobs = new JobServiceDouble(4);
  const logged: unknown[] = [];
  const api = new JobApi(jobs, TASKS, { onError: (error) => logged.push(error), ...options });
  const submit = async (payload: unknown) => {
    const response = await api.handle(event('POST', '/jobs', { body: JSON.stringify(payload) }));
    expect(response.statusCode).toBe(202);
    return body(response) as { jobId: string; total: number };
  };
  return { jobs, api, logged, submit };
}

describe('JobApi routes (with a JobService test double)', () => {
  it('POST /jobs answers 202 {jobId, total} with a Location, and passes task, items, chunksize, starmap on', async () => {
    const { api, jobs } = setup();
    const response = await api.handle(
      event('POST', '/jobs', {
        body: JSON.stringify({
          task: 'add',
          items: [
            [1, 2],
            [3, 4],
          ],
          chunksize: 1,
          starmap: true,
        }),
      }),
    );
    expect(response.statusCode).toBe(202);
    const { jobId, total } = body(response) as { jobId: string; total: number };
    expect(jobId).toMatch(/^[0-9a-z]{26}$/);
    expect(total).toBe(2);
    expect(response.headers['location']).toBe(`/jobs/${jobId}`);
    expect(jobs.jobs.get(jobId)?.status).toMatchObject({ task: 'add', chunksize: 1, starmap: true, total: 2 });
    expect(jobs.jobs.get(jobId)?.results).toEqual([3, 7]);
  });

  it('GET /jobs/{id} answers the status fields; DELETE answers 202 {jobId, status: cancelled}', async () => {
    const { api, submit } = setup();
    const { jobId } = await submit({ task: 'square', items: [1, 2, 3] });
    const status = await api.handle(event('GET', `/jobs/${jobId}`));
    expect(status.statusCode).toBe(200);
    expect(body(status)).toMatchObject({ jobId, task: 'square', status: 'succeeded', total: 3, done: 3, failed: 0 });
    const cancelled = await api.handle(event('DELETE', `/jobs/${jobId}`));
    expect(cancelled.statusCode).toBe(202);
    expect(body(cancelled)).toEqual({ jobId, status: 'cancelled' });
  });

  it('GET /jobs/{id}/results pages in input order, limit results at most, null and an error where an item failed', async () => {
    const { api, submit, jobs } = setup();
    const { jobId } = await submit({ task: 'square', items: [1, 'two', 3, 4, 5], chunksize: 2 });
    const all = body(await api.handle(event('GET', `/jobs/${jobId}/results`)));
    expect(all).toEqual({
      from: 0,
      results: [1, null, 9, 16, 25],
      errors: [{ index: 1, name: 'TypeError', message: 'square needs a number, got string' }],
      waiting: false,
    });
    // The service answers whole chunks (4 items for 3); the API sends 3, and its token says where to go on.
    const first = body(await api.handle(event('GET', `/jobs/${jobId}/results`, { query: 'limit=3' })));
    expect(first).toEqual({
      from: 0,
      results: [1, null, 9],
      errors: [{ index: 1, name: 'TypeError', message: 'square needs a number, got string' }],
      waiting: false,
      next: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
    });
    const second = body(
      await api.handle(event('GET', `/jobs/${jobId}/results`, { query: `limit=3&next=${first.next as string}` })),
    );
    expect(second).toEqual({ from: 3, results: [16, 25], errors: [], waiting: false });
    expect(jobs.calls.filter((call) => call.startsWith('results'))).toEqual([
      `results ${jobId} - 1000`,
      `results ${jobId} - 3`,
      `results ${jobId} - 6`,
    ]);
    // A service token is passed on inside the API's: one page per chunk of one.
    const single = await submit({ task: 'square', items: [1, 2, 3], chunksize: 1 });
    const pages = [];
    let next: string | undefined;
    do {
      const page = body(
        await api.handle(event('GET', `/jobs/${single.jobId}/results`, { query: `limit=1${next ? `&next=${next}` : ''}` })),
      );
      pages.push(page.results);
      next = page.next as string | undefined;
    } while (next);
    expect(pages).toEqual([[1], [4], [9]]);
    expect(jobs.calls.slice(-3)).toEqual([
      `results ${single.jobId} - 1`,
      `results ${single.jobId} p1 1`,
      `results ${single.jobId} p2 1`,
    ]);
  });

  it('GET /jobs lists newest first, with limit and next', async () => {
    const { api, submit } = setup();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await submit({ task: 'square', items: [i] })).jobId);
    const page = body(await api.handle(event('GET', '/jobs', { query: 'limit=2' }))) as {
      jobs: Array<{ jobId: string }>;
      next: string;
    };
    expect(page.jobs.map((job) => job.jobId)).toEqual([ids[2], ids[1]]);
    const rest = body(await api.handle(event('GET', '/jobs', { query: `next=${page.next}` }))) as {
      jobs: Array<{ jobId: string }>;
    };
    expect(rest).toEqual({ jobs: [expect.objectContaining({ jobId: ids[0] })] });
  });

  it('takes a base64-encoded body, and one trailing slash on a route', async () => {
    const { api } = setup();
    const encoded = Buffer.from(JSON.stringify({ task: 'square', items: [7] })).toString('base64');
    const response = await api.handle(event('POST', '/jobs/', { body: encoded, base64: true }));
    expect(response.statusCode).toBe(202);
    expect(body(response)).toMatchObject({ total: 1 });
  });

  it('writes decoded results as JSON by its rules (bigint, NaN, -0, Map, Set, Date, typed arrays, undefined)', async () => {
    const { api, submit } = setup();
    const kinds = ['undefined', 'bigint', 'nan', 'infinity', 'negativeZero', 'map', 'date', 'bytes', 'nested'];
    const { jobId } = await submit({ task: 'odd', items: kinds, chunksize: 100 });
    const page = body(await api.handle(event('GET', `/jobs/${jobId}/results`, { query: 'limit=100' })));
    expect(page.results).toEqual([
      null,
      '12345678901234567890',
      null,
      null,
      0,
      [
        ['a', 1],
        [2, ['3']],
      ],
      '2026-12-02T00:00:00.000Z',
      [0, 255],
      { keep: [null, null] },
    ]);
  });

  it('cuts a results page that would pass the response limit, and reports one result too big to send', async () => {
    const { api, submit, jobs } = setup({ maxResponseBytes: 10_000 });
    const { jobId } = await submit({ task: 'big', items: [3000, 3000, 3000, 3000] });
    const first = body(await api.handle(event('GET', `/jobs/${jobId}/results`)));
    expect((first.results as string[]).length).toBe(2);
    const rest = body(await api.handle(event('GET', `/jobs/${jobId}/results`, { query: `next=${first.next as string}` })));
    expect(rest).toMatchObject({ from: 2, results: ['x'.repeat(3000), 'x'.repeat(3000)], errors: [] });
    expect(rest.next).toBeUndefined();
    expect(jobs.calls.filter((call) => call.startsWith('results'))).toEqual([
      `results ${jobId} - 1000`,
      `results ${jobId} - 1002`,
    ]);

    const huge = await submit({ task: 'big', items: [1, 20_000, 2] });
    const page = body(await api.handle(event('GET', `/jobs/${huge.jobId}/results`)));
    expect(page).toMatchObject({ from: 0, results: ['x'], errors: [] });
    const tooBig = body(await api.handle(event('GET', `/jobs/${huge.jobId}/results`, { query: `next=${page.next as string}` })));
    expect(tooBig).toMatchObject({ from: 1, results: [null, 'xx'] });
    expect(tooBig.next).toBeUndefined();
    expect(tooBig.errors).toEqual([
      { index: 1, name: 'ResultTooLargeError', message: expect.stringContaining('more than a response of the API carries') },
    ]);
  });
});

describe('JobApi refusals (with a JobService test double)', () => {
  const bad: Array<[string, unknown, string, RegExp]> = [
    ['a missing task', { items: [1] }, 'ERR_INVALID_BODY', /body\.task is required/],
    ['an unknown field', { task: 'square', items: [1], extra: 1 }, 'ERR_INVALID_BODY', /unknown field 'extra'/],
    ['a __proto__ field', JSON.parse('{"task":"square","items":[1],"__proto__":{"x":1}}'), 'ERR_INVALID_BODY', /'__proto__'/],
    ['items not an array', { task: 'square', items: 'abc' }, 'ERR_INVALID_BODY', /body\.items must be an array/],
    ['no items at all', { task: 'square' }, 'ERR_INVALID_BODY', /exactly one of 'items'/],
    ['task a number', { task: 5, items: [] }, 'ERR_INVALID_BODY', /body\.task must be a task name.*got 5 \(number\)/],
    [
      'chunksize 0',
      { task: 'square', items: [1], chunksize: 0 },
      'ERR_INVALID_BODY',
      /chunksize must be a whole number, 1 or more; got 0/,
    ],
    ['chunksize -1', { task: 'square', items: [1], chunksize: -1 }, 'ERR_INVALID_BODY', /chunksize.*got -1/],
    ['chunksize "2"', { task: 'square', items: [1], chunksize: '2' }, 'ERR_INVALID_BODY', /chunksize.*got '2' \(string\)/],
    ['chunksize 1.5', { task: 'square', items: [1], chunksize: 1.5 }, 'ERR_INVALID_BODY', /chunksize.*got 1\.5/],
    ['starmap "yes"', { task: 'add', items: [[1, 2]], starmap: 'yes' }, 'ERR_INVALID_BODY', /starmap must be true or false/],
    [
      'a starmap item not an array',
      { task: 'add', items: [[1, 2], 3], starmap: true },
      'ERR_INVALID_BODY',
      /body\.items\[1\] must be an array of arguments/,
    ],
    [
      'an unregistered task',
      { task: 'cube', items: [1] },
      'ERR_UNKNOWN_TASK',
      /Unknown task 'cube'\. Known tasks here: 'add', 'big', 'echo', 'odd', 'square'/,
    ],
    ['a body that is an array', [1, 2], 'ERR_INVALID_BODY', /body/],
    ['a body that is null', null, 'ERR_INVALID_BODY', /body/],
  ];
  for (const [name, payload, code, message] of bad) {
    it(`POST /jobs with ${name} is a 400 ${code}`, async () => {
      const { api, jobs } = setup();
      const response = await api.handle(event('POST', '/jobs', { body: JSON.stringify(payload) }));
      expect(response.statusCode).toBe(400);
      const error = errorOf(response);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(jobs.calls).toEqual([]);
    });
  }

  it('refuses bad JSON, no body, invalid UTF-8, bad base64 and JSON nested too deep with 400s', async () => {
    const { api } = setup();
    const cases: Array<[RequestSpec, string]> = [
      [{ body: '{"task": "square", "items": [1,' }, 'ERR_BAD_JSON'],
      [{}, 'ERR_INVALID_BODY'],
      [{ body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'), base64: true }, 'ERR_INVALID_UTF8'],
      [{ body: 'not base64 at all!', base64: true }, 'ERR_BAD_REQUEST'],
      [{ body: `{"task":"echo","items":[${'['.repeat(200)}${']'.repeat(200)}]}` }, 'ERR_JSON_TOO_DEEP'],
    ];
    for (const [spec, code] of cases) {
      const response = await api.handle(event('POST', '/jobs', spec));
      expect([response.statusCode, errorOf(response).code]).toEqual([400, code]);
    }
  });

  it('answers 413 over the body limit (counted after base64 decoding) and 415 for a body that is not JSON', async () => {
    const { api } = setup({ maxBodyBytes: 100 });
    const big = JSON.stringify({ task: 'square', items: new Array(100).fill(1) });
    for (const spec of [{ body: big }, { body: Buffer.from(big).toString('base64'), base64: true }]) {
      const response = await api.handle(event('POST', '/jobs', spec));
      expect([response.statusCode, errorOf(response).code]).toEqual([413, 'ERR_BODY_TOO_LARGE']);
    }
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']) {
      const response = await api.handle(event('POST', '/jobs', { body: '{}', headers: { 'content-type': type } }));
      expect([response.statusCode, errorOf(response).code]).toEqual([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
    }
    const vendor = await api.handle(
      event('POST', '/jobs', {
        body: '{"task":"square","items":[2]}',
        headers: { 'content-type': 'application/vnd.x+json; charset=UTF-8' },
      }),
    );
    expect(vendor.statusCode).toBe(202);
  });

  it('answers 404 for an unknown route, an unknown job, and an id that is not a job id', async () => {
    const { api } = setup();
    const cases: Array<[string, string, string]> = [
      ['GET', '/', 'ERR_ROUTE_NOT_FOUND'],
      ['GET', '/job', 'ERR_ROUTE_NOT_FOUND'],
      ['GET', '/jobs/a/b/c', 'ERR_ROUTE_NOT_FOUND'],
      ['GET', '//jobs', 'ERR_ROUTE_NOT_FOUND'],
      ['POST', '/uploads', 'ERR_ROUTE_NOT_FOUND'],
      ['GET', `/jobs/${'0'.repeat(26)}`, 'ERR_JOB_NOT_FOUND'],
      ['GET', `/jobs/${'0'.repeat(26)}/results`, 'ERR_JOB_NOT_FOUND'],
      ['DELETE', `/jobs/${'0'.repeat(26)}`, 'ERR_JOB_NOT_FOUND'],
      ['GET', '/jobs/NOT-AN-ID', 'ERR_JOB_NOT_FOUND'],
      ['GET', '/jobs/%2e%2e', 'ERR_JOB_NOT_FOUND'],
    ];
    for (const [method, path, code] of cases) {
      const response = await api.handle(event(method, path));
      expect([method, path, response.statusCode, errorOf(response).code]).toEqual([method, path, 404, code]);
    }
  });

  it('answers 405 with Allow for a wrong method on a known route', async () => {
    const { api } = setup();
    const id = '0'.repeat(26);
    const cases: Array<[string, string, string]> = [
      ['PUT', '/jobs', 'GET, POST'],
      ['DELETE', '/jobs', 'GET, POST'],
      ['POST', `/jobs/${id}`, 'GET, DELETE'],
      ['PATCH', `/jobs/${id}`, 'GET, DELETE'],
      ['DELETE', `/jobs/${id}/results`, 'GET'],
      ['HEAD', `/jobs/${id}/results`, 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await api.handle(event(method, path));
      expect([response.statusCode, response.headers['allow'], errorOf(response).code]).toEqual([
        405,
        allow,
        'ERR_METHOD_NOT_ALLOWED',
      ]);
    }
  });

  it('refuses a bad query: unknown or repeated parameters, a bad limit, a bad escape, a bad page token', async () => {
    const { api, submit } = setup();
    const { jobId } = await submit({ task: 'square', items: [1, 2, 3, 4, 5, 6] });
    const cases: Array<[string, string, string]> = [
      [`/jobs/${jobId}/results`, 'limit=0', 'ERR_BAD_QUERY'],
      [`/jobs/${jobId}/results`, 'limit=1.5', 'ERR_BAD_QUERY'],
      [`/jobs/${jobId}/results`, 'limit=99999', 'ERR_BAD_QUERY'],
      [`/jobs/${jobId}/results`, 'next=a&next=b', 'ERR_BAD_QUERY'],
      [`/jobs/${jobId}/results`, 'page=2', 'ERR_BAD_QUERY'],
      [`/jobs/${jobId}/results`, 'next=%zz', 'ERR_BAD_QUERY'],
      [`/jobs/${jobId}/results`, 'next=bogus', 'ERR_INVALID_ARGUMENT'],
      [`/jobs/${jobId}/results`, `next=${Buffer.from('["q9",0]').toString('base64url')}`, 'ERR_INVALID_ARGUMENT'],
      [`/jobs/${jobId}/results`, `next=${Buffer.from('["p1",-1]').toString('base64url')}`, 'ERR_INVALID_ARGUMENT'],
      [`/jobs/${jobId}`, 'x=1', 'ERR_BAD_QUERY'],
      ['/jobs', 'limit=101', 'ERR_BAD_QUERY'],
      ['/jobs', '__proto__=1', 'ERR_BAD_QUERY'],
    ];
    for (const [path, query, code] of cases) {
      const response = await api.handle(event('GET', path, { query }));
      expect([query, response.statusCode, errorOf(response).code]).toEqual([query, 400, code]);
    }
  });

  it('refuses itemsUpload with a 400 on an API without uploads', async () => {
    const { api } = setup();
    const response = await api.handle(
      event('POST', '/jobs', { body: JSON.stringify({ task: 'square', itemsUpload: 'a'.repeat(26) }) }),
    );
    expect([response.statusCode, errorOf(response).code]).toEqual([400, 'ERR_INVALID_BODY']);
    expect(errorOf(response).message).toMatch(/this API has no uploads/);
  });

  it('answers an unexpected error with a generic 500 (no message, no stack) and logs it', async () => {
    const { api, jobs, logged } = setup();
    jobs.failWith = new Error('the table is on fire');
    const response = await api.handle(event('GET', `/jobs/${'1'.repeat(26)}`));
    expect(response.statusCode).toBe(500);
    const error = errorOf(response);
    expect(error.code).toBe('ERR_INTERNAL');
    expect(error.message).toBe("Internal error on request req-1; the function's log has the details.");
    expect(logged).toEqual([jobs.failWith]);
  });

  it('answers an event that is not a Function URL request with a 400', async () => {
    const { api } = setup();
    for (const junk of [null, {}, { requestContext: {} }, 'text']) {
      const response = await api.handle(junk as unknown as APIGatewayProxyEventV2);
      expect([response.statusCode, errorOf(response).code]).toEqual([400, 'ERR_BAD_REQUEST']);
    }
  });
});

class UploadsDouble implements ItemUploads {
  readonly stored = new Map<string, string>();
  readonly removed: string[] = [];
  async create(): Promise<UploadTicket> {
    const uploadId = 'u'.repeat(26);
    return { uploadId, url: 'http://bucket/uploads/u', method: 'PUT', expiresAt: new Date(0).toISOString(), maxBytes: 10 };
  }
  async read(uploadId: string): Promise<unknown[]> {
    const text = this.stored.get(uploadId);
    if (text === undefined) throw new ApiRefusal(400, 'ERR_UPLOAD_NOT_FOUND', 'nothing there');
    return JSON.parse(text) as unknown[];
  }
  async remove(uploadId: string): Promise<void> {
    this.removed.push(uploadId);
  }
}

describe('JobApi uploads (with JobService and ItemUploads test doubles)', () => {
  it('POST /uploads answers 201 with the ticket; POST /jobs with itemsUpload submits its items and removes it', async () => {
    const uploads = new UploadsDouble();
    const { api, jobs } = setup({ uploads });
    const ticket = await api.handle(event('POST', '/uploads'));
    expect(ticket.statusCode).toBe(201);
    const { uploadId } = body(ticket) as { uploadId: string };
    uploads.stored.set(uploadId, '[[1,2],[5,6]]');
    const response = await api.handle(
      event('POST', '/jobs', { body: JSON.stringify({ task: 'add', itemsUpload: uploadId, starmap: true }) }),
    );
    expect(response.statusCode).toBe(202);
    const { jobId } = body(response) as { jobId: string };
    expect(jobs.jobs.get(jobId)?.results).toEqual([3, 11]);
    expect(uploads.removed).toEqual([uploadId]);
  });

  it('refuses both items and itemsUpload, a bad upload id, a missing upload, a bad starmap upload item, and a POST /uploads body with fields', async () => {
    const uploads = new UploadsDouble();
    uploads.stored.set('a'.repeat(26), '[[1,2],3]');
    const { api, jobs } = setup({ uploads });
    const cases: Array<[string, unknown, string]> = [
      ['/jobs', { task: 'add', items: [], itemsUpload: 'a'.repeat(26) }, 'ERR_INVALID_BODY'],
      ['/jobs', { task: 'add', itemsUpload: '../etc/passwd' }, 'ERR_INVALID_BODY'],
      ['/jobs', { task: 'add', itemsUpload: 'b'.repeat(26) }, 'ERR_UPLOAD_NOT_FOUND'],
      ['/jobs', { task: 'add', itemsUpload: 'a'.repeat(26), starmap: true }, 'ERR_INVALID_BODY'],
      ['/uploads', { bytes: 5 }, 'ERR_INVALID_BODY'],
    ];
    for (const [path, payload, code] of cases) {
      const response = await api.handle(event('POST', path, { body: JSON.stringify(payload) }));
      expect([response.statusCode, errorOf(response).code]).toEqual([400, code]);
    }
    expect(jobs.calls).toEqual([]);
    expect(uploads.removed).toEqual([]);
  });
});

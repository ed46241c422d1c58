import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/api/handler.js';
import { AwsClients } from '../../../lib/backends/aws/AwsClients.js';
import { configEnvironment } from '../../../lib/backends/aws/emulator.js';
import { JobApi } from '../../../lib/http/api/JobApi.js';
import { S3ItemUploads } from '../../../lib/http/api/S3ItemUploads.js';
import { FunctionUrlAdapter } from '../../../lib/http/FunctionUrlAdapter.js';
import { SigV4Verifier } from '../../../lib/http/SigV4Verifier.js';
import { signRequest } from '../../../lib/http/signedFetch.js';
import { provisionForTest } from '../awsHarness.js';
import { DOUBLE_TASKS, JobServiceDouble } from '../../unit/http/api/JobServiceDouble.js';
// The deployed handler's tasks, registered before it runs, as its bundle registers them.
import '../../fixtures/tasks.js';

const CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };
const SEED = 20261202;
const SIX_MIB = 6 * 1024 * 1024;

interface Malformed {
  what: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** mulberry32: a small seeded generator, so that a failing case is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sends exactly what was signed, with any method and any bytes (fetch refuses some of both). */
function send(url: string, method: string, headers: Record<string, string>, body: Uint8Array | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { host: _host, ...rest } = headers;
    const outgoing = httpRequest(url, {
      method,
      headers: { ...rest, ...(body ? { 'content-length': String(body.length) } : {}) },
    });
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Over 200 requests that are each wrong in at least one way, from a seeded generator. */
function malformedRequests(): Malformed[] {
  const next = random(SEED);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const id = () => Array.from({ length: 26 }, () => pick([...'0123456789abcdefghijklmnopqrstuvwxyz'])).join('');
  const json = { 'content-type': 'application/json' };
  const cases: Malformed[] = [];

  // Wrong methods on known routes.
  for (const method of ['PUT', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'LOCK']) {
    for (const path of ['/jobs', `/jobs/${id()}`, `/jobs/${id()}/results`, '/uploads'])
      cases.push({ what: 'wrong method', method, path });
  }
  cases.push(
    { what: 'wrong method', method: 'DELETE', path: '/jobs' },
    { what: 'wrong method', method: 'POST', path: `/jobs/${id()}` },
  );
  cases.push(
    { what: 'wrong method', method: 'GET', path: '/uploads' },
    { what: 'wrong method', method: 'DELETE', path: `/jobs/${id()}/results` },
  );

  // Unknown paths, ids that are not job ids, unknown jobs.
  const paths = [
    '/',
    '/job',
    '/JOBS',
    '/jobs/x/y/z',
    '/jobs;a=b',
    '/jobs/%00',
    '/jobs/%ff%fe',
    `/jobs/${'A'.repeat(26)}`,
    `/jobs/${id()}x`,
    `/jobs/${id().slice(1)}`,
    '/jobs/..%2f..%2fetc',
    `/jobs/${id()}/results/more`,
    `/jobs/${id()}/RESULTS`,
    `/${'a/'.repeat(500)}`,
    `/jobs/${'9'.repeat(4000)}`,
    '/uploads/x',
    '/__proto__',
    '/jobs/__proto__',
    '/jobs/constructor',
    '/jobs/%E2%80%AE',
  ];
  for (const path of paths) for (const method of ['GET', 'DELETE']) cases.push({ what: 'unknown path', method, path });
  for (let i = 0; i < 10; i++) {
    cases.push({ what: 'unknown job', method: pick(['GET', 'DELETE']), path: pick([`/jobs/${id()}`, `/jobs/${id()}`]) });
    cases.push({ what: 'unknown job results', method: 'GET', path: `/jobs/${id()}/results` });
  }

  // Bad queries.
  const queries = [
    'limit=0',
    'limit=-1',
    'limit=abc',
    'limit=1e3',
    'limit=99999999999',
    'next=',
    'next=a&next=b',
    'bogus=1',
    'next=%25zz',
    `next=${'n'.repeat(5000)}`,
    '__proto__=1',
    'constructor=1',
  ];
  for (const query of queries) {
    cases.push({ what: 'bad list query', method: 'GET', path: `/jobs?${query}` });
    cases.push({ what: 'bad results query', method: 'GET', path: `/jobs/${id()}/results?${query}` });
  }

  // Bodies that are wrong: JSON, shape, types, values.
  const bodies: unknown[] = [
    {},
    { task: 'square' },
    { items: [1] },
    { task: '', items: [1] },
    { task: 'x'.repeat(300), items: [1] },
    { task: 'cube', items: [1] },
    { task: 'square', items: [1], extra: true },
    { task: 'square', items: {} },
    { task: 'square', items: '1,2' },
    { task: 'square', items: null },
    { task: null, items: [] },
    { task: ['square'], items: [] },
    { task: 'square', items: [1], chunksize: 0 },
    { task: 'square', items: [1], chunksize: -1 },
    { task: 'square', items: [1], chunksize: '2' },
    { task: 'square', items: [1], chunksize: 1.5 },
    { task: 'square', items: [1], chunksize: 1e300 },
    { task: 'square', items: [1], chunksize: null },
    { task: 'square', items: [1], starmap: 'true' },
    { task: 'square', items: [1], starmap: 1 },
    { task: 'add', items: [[1, 2], 3], starmap: true },
    { task: 'add', items: [{ 0: 1 }], starmap: true },
    { task: 'square', items: [1], itemsUpload: id() },
    { task: 'square', itemsUpload: id() },
    { task: 'square', itemsUpload: '../../etc/passwd' },
    { task: 'square', itemsUpload: 5 },
    [],
    [1, 2, 3],
    null,
    true,
    42,
    'a string',
  ];
  for (const body of bodies)
    cases.push({ what: 'invalid body', method: 'POST', path: '/jobs', headers: json, body: JSON.stringify(body) });
  const pollution = [
    '{"__proto__":{"polluted":true},"task":"square","items":[1]}',
    '{"constructor":{"prototype":{"polluted":true}},"task":"square","items":[1]}',
    '{"task":"square","items":[1],"prototype":{}}',
    '{"task":{"__proto__":{"toString":1}},"items":[1]}',
    '{"task":"square","items":{"__proto__":[]}}',
    '{"task":"square","items":[1],"chunksize":{"valueOf":3}}',
    '{"__proto__":null}',
    '{"task":"toString","items":[1]}',
    '{"task":"__proto__","items":[1]}',
    '{"task":"hasOwnProperty","items":[1]}',
  ];
  for (const body of pollution) cases.push({ what: 'prototype pollution', method: 'POST', path: '/jobs', headers: json, body });
  const badJson = [
    '{',
    '{"task": "square", "items": [1,]}',
    "{'task': 'square'}",
    '{"task": "square", "items": [NaN]}',
    '{"task": "square", "items": [1]} trailing',
    '\u0000',
    '   ',
    '{"task":"square","items":[1],"task":"square"',
    `{"task":"square","items":[${'1,'.repeat(1000)}]}`,
    '{"task": "squ\\uZZZZare"}',
  ];
  for (const body of badJson) cases.push({ what: 'bad JSON', method: 'POST', path: '/jobs', headers: json, body });

  // Deep nesting, in the body and in items.
  for (const depth of [129, 200, 1000, 10_000, 100_000]) {
    cases.push({
      what: 'deep nesting',
      method: 'POST',
      path: '/jobs',
      headers: json,
      body: `${'['.repeat(depth)}${']'.repeat(depth)}`,
    });
    cases.push({
      what: 'deep nesting in items',
      method: 'POST',
      path: '/jobs',
      headers: json,
      body: `{"task":"echo","items":[${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]}`,
    });
  }

  // Invalid UTF-8, with and without a JSON content type (the adapter passes it base64-encoded).
  const invalidUtf8 = [
    [0xff],
    [0xc0, 0x80],
    [0xed, 0xa0, 0x80],
    [0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xf8, 0x22, 0x7d],
    [0xe2, 0x82],
    [0xf4, 0x90, 0x80, 0x80],
  ];
  for (const bytes of invalidUtf8) {
    cases.push({ what: 'invalid UTF-8', method: 'POST', path: '/jobs', headers: json, body: new Uint8Array(bytes) });
    cases.push({ what: 'invalid UTF-8, no content type', method: 'POST', path: '/jobs', body: new Uint8Array(bytes) });
  }
  for (let i = 0; i < 10; i++) {
    const bytes = new Uint8Array(1 + Math.floor(next() * 200)).map(() => Math.floor(next() * 256));
    cases.push({
      what: 'random bytes',
      method: 'POST',
      path: pick(['/jobs', '/uploads']),
      headers: pick([json, {}]),
      body: bytes,
    });
  }

  // Content types that are not JSON, and odd headers.
  const types = [
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    'application/json; charset=utf-16',
    'image/png',
    ';;;',
    'application/octet-stream',
  ];
  for (const type of types) {
    cases.push({
      what: 'not JSON content type',
      method: 'POST',
      path: '/jobs',
      headers: { 'content-type': type },
      body: '{"task":"square","items":[1]}',
    });
  }
  const odd: Array<Record<string, string>> = [
    { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    { 'content-type': 'application/json', 'x-forwarded-for': '<script>' },
    { 'content-type': 'application/json', cookie: '__proto__=1; constructor=2' },
    { 'content-type': 'application/json', 'x-long': 'v'.repeat(8000) },
    { 'content-type': 'application/json', accept: 'text/html' },
  ];
  for (const headers of odd)
    cases.push({ what: 'odd headers', method: 'POST', path: '/jobs', headers, body: '{"task":"cube","items":[1]}' });

  // POST /uploads with a body it does not take.
  for (const body of ['{"bytes":5}', '[]', 'null', '{', '{"__proto__":{}}']) {
    cases.push({ what: 'bad upload request', method: 'POST', path: '/uploads', headers: json, body });
  }

  // Bodies over the 6 MiB limit, and one just under it that is deep JSON.
  cases.push({ what: 'huge body', method: 'POST', path: '/jobs', headers: json, body: new Uint8Array(SIX_MIB + 1).fill(0x20) });
  cases.push({ what: 'huge body', method: 'POST', path: '/uploads', headers: json, body: new Uint8Array(7_000_000).fill(0x5b) });
  cases.push({
    what: 'huge body',
    method: 'POST',
    path: '/jobs',
    headers: json,
    body: `{"task":"square","items":[${'1,'.repeat(SIX_MIB / 2)}1]}`,
  });
  const half = SIX_MIB / 2 - 16;
  cases.push({
    what: 'huge deep body',
    method: 'POST',
    path: '/jobs',
    headers: json,
    body: `${'['.repeat(half)}${']'.repeat(half)}`,
  });
  return cases;
}

/** Sends every malformed request, signed; says what was answered wrong, and the statuses seen. */
async function fuzz(url: string): Promise<{ failures: string[]; statuses: Map<number, number> }> {
  const cases = malformedRequests();
  expect(cases.length).toBeGreaterThanOrEqual(200);
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  for (const spec of cases) {
    const body = typeof spec.body === 'string' ? new TextEncoder().encode(spec.body) : spec.body;
    const signed = await signRequest(`${url}${spec.path}`, {
      method: spec.method,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      ...(spec.headers ? { headers: spec.headers } : {}),
      ...(body ? { body } : {}),
    });
    const answer = await send(signed.url, spec.method, signed.headers, signed.body);
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    const label = `${spec.what}: ${spec.method} ${spec.path.slice(0, 80)} → ${answer.status} ${answer.body.slice(0, 200)}`;
    if (answer.status < 400 || answer.status >= 500) failures.push(label);
    // A HEAD answer has no body, by HTTP; every other one is the JSON error shape, exactly.
    if (spec.method === 'HEAD') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body);
    } catch {
      failures.push(`not JSON: ${label}`);
      continue;
    }
    const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
    const exact =
      Object.keys(parsed as object).join() === 'error' &&
      Object.keys(error ?? {}).join() === 'code,message' &&
      typeof error?.code === 'string' &&
      /^ERR_[A-Z0-9_]+$/.test(error.code) &&
      typeof error.message === 'string' &&
      error.message.length > 0 &&
      !/\n\s+at /.test(error.message);
    if (!exact) failures.push(`not the error shape: ${label}`);
    if (answer.status === 405 && typeof answer.headers['allow'] !== 'string') failures.push(`405 without Allow: ${label}`);
  }
  return { failures, statuses };
}

describe('the jobs API fuzzed over real signed HTTP (FunctionUrlAdapter with SigV4Verifier; with a JobService test double, real S3 uploads on fauxqs)', () => {
  let adapter: FunctionUrlAdapter;
  let clients: AwsClients;
  const jobs = new JobServiceDouble();
  const logged: unknown[] = [];

  beforeAll(async () => {
    const config = await provisionForTest('api-fuzz');
    clients = new AwsClients(config);
    const uploads = new S3ItemUploads(async () => ({
      s3: clients.s3,
      bucket: config.bucket,
      region: config.region,
      endpoint: config.endpoints?.s3,
    }));
    const api = new JobApi(jobs, Object.keys(DOUBLE_TASKS), { uploads, onError: (error) => logged.push(error) });
    adapter = await FunctionUrlAdapter.start({
      verifier: new SigV4Verifier({ credentials: [CREDENTIALS], region: 'us-east-1' }),
      handler: (event) => api.handle(event),
      onError: (error) => logged.push(error),
    });
  });
  afterAll(async () => {
    await adapter?.stop();
    clients?.destroy();
  });

  it(`answers every one of over 200 malformed signed requests (seed ${SEED}) with a 4xx JSON error, never a 5xx`, async () => {
    const { failures, statuses } = await fuzz(adapter.url);
    expect(failures).toEqual([]);
    expect(logged).toEqual([]);
    // Nothing reached the service as a job, and nothing polluted a prototype.
    expect(jobs.jobs.size).toBe(0);
    expect(jobs.calls.some((call) => call.startsWith('submit'))).toBe(false);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // Each kind of refusal was produced, not one status for everything.
    expect([...statuses.keys()].sort()).toEqual([400, 404, 405, 413, 415]);
    // 222 requests, some of 6 MiB and of millions of nesting levels: minutes on a loaded machine.
  }, 180_000);

  it('refuses unsigned and badly signed requests with 403 before the API sees them', async () => {
    const before = jobs.calls.length;
    const unsigned = await send(
      `${adapter.url}/jobs`,
      'POST',
      { 'content-type': 'application/json' },
      new TextEncoder().encode('{"task":"square","items":[1]}'),
    );
    expect(unsigned.status).toBe(403);
    expect(JSON.parse(unsigned.body)).toEqual({ error: { code: 'ERR_UNSIGNED', message: expect.any(String) } });

    const body = new TextEncoder().encode('{"task":"square","items":[1]}');
    const signed = await signRequest(`${adapter.url}/jobs`, {
      method: 'POST',
      region: 'us-east-1',
      credentials: CREDENTIALS,
      headers: { 'content-type': 'application/json' },
      body,
    });
    const cases: Array<[string, Record<string, string>, Uint8Array, string]> = [
      [
        'a changed body',
        signed.headers,
        new TextEncoder().encode('{"task":"square","items":[2]}'),
        'ERR_CONTENT_SHA256_MISMATCH',
      ],
      [
        'a wrong signature',
        {
          ...signed.headers,
          authorization: signed.headers['authorization']!.replace(/Signature=\w+/, `Signature=${'0'.repeat(64)}`),
        },
        body,
        'ERR_BAD_SIGNATURE',
      ],
      [
        'a garbled authorization',
        { ...signed.headers, authorization: 'AWS4-HMAC-SHA256 garbage' },
        body,
        'ERR_MALFORMED_SIGNATURE',
      ],
    ];
    for (const [what, headers, payload, code] of cases) {
      const answer = await send(signed.url, 'POST', headers, payload);
      expect([what, answer.status, (JSON.parse(answer.body) as { error: { code: string } }).error.code]).toEqual([
        what,
        403,
        code,
      ]);
    }
    const wrongSecret = await signRequest(`${adapter.url}/jobs`, {
      region: 'us-east-1',
      credentials: { ...CREDENTIALS, secretAccessKey: 'guess' },
    });
    const answer = await send(wrongSecret.url, 'GET', wrongSecret.headers, undefined);
    expect([answer.status, (JSON.parse(answer.body) as { error: { code: string } }).error.code]).toEqual([
      403,
      'ERR_BAD_SIGNATURE',
    ]);
    expect(jobs.calls.length).toBe(before);
  });
});

describe('the deployed handler (functions/api/handler.ts, middy, configured from the environment) fuzzed over real signed HTTP, over the real AwsJobService on the emulators', () => {
  let adapter: FunctionUrlAdapter;
  const errorLines: unknown[][] = [];

  beforeAll(async () => {
    const config = await provisionForTest('api-fuzz-aws');
    for (const [name, value] of Object.entries(configEnvironment(config))) vi.stubEnv(name, value);
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errorLines.push(args));
    adapter = await FunctionUrlAdapter.start({
      verifier: new SigV4Verifier({ credentials: [CREDENTIALS], region: 'us-east-1' }),
      handler: (event) => handler(event, {} as never),
      onError: (error) => errorLines.push([error]),
    });
  });
  afterAll(async () => {
    await adapter?.stop();
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it(`answers the same over 200 malformed requests with 4xx JSON errors, never a 5xx, and makes no job`, async () => {
    const { failures, statuses } = await fuzz(adapter.url);
    expect(failures).toEqual([]);
    expect(errorLines).toEqual([]);
    expect([...statuses.keys()].sort()).toEqual([400, 404, 405, 413, 415]);
    const signed = await signRequest(`${adapter.url}/jobs`, { region: 'us-east-1', credentials: CREDENTIALS });
    const listed = await send(signed.url, 'GET', signed.headers, undefined);
    expect([listed.status, JSON.parse(listed.body)]).toEqual([200, { jobs: [] }]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  }, 180_000);
});

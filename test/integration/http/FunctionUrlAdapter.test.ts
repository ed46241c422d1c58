import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { FunctionUrlAdapter, type FunctionUrlEvent, type FunctionUrlResult } from '../../../lib/http/FunctionUrlAdapter.js';
import { SigV4Verifier } from '../../../lib/http/SigV4Verifier.js';
import { signedFetch, signRequest } from '../../../lib/http/signedFetch.js';

const run = promisify(execFile);
const CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' };
const SIGNING = { region: 'us-east-1', credentials: CREDENTIALS };
const SIX_MIB = 6 * 1024 * 1024;

interface ErrorBody {
  error: { code: string; message: string };
}

describe('FunctionUrlAdapter: a Function URL on loopback, with SigV4 checked as AWS_IAM auth does', () => {
  let adapter: FunctionUrlAdapter;
  const events: FunctionUrlEvent[] = [];
  const errors: unknown[] = [];

  beforeAll(async () => {
    adapter = await FunctionUrlAdapter.start({
      verifier: new SigV4Verifier({ credentials: [CREDENTIALS], region: 'us-east-1' }),
      onError: (error) => errors.push(error),
      handler: async (event): Promise<FunctionUrlResult> => {
        events.push(event);
        if (event.rawPath === '/throw') throw new Error('the handler broke');
        if (event.rawPath === '/size') {
          const bytes = event.body === undefined ? 0 : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8').length;
          return { statusCode: 200, body: JSON.stringify({ bytes }) };
        }
        if (event.rawPath === '/binary') {
          return {
            statusCode: 201,
            headers: { 'content-type': 'application/octet-stream', 'x-count': 3 },
            body: 'AAEC',
            isBase64Encoded: true,
          };
        }
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) };
      },
    });
  });
  afterAll(() => adapter?.stop());

  it('listens on 127.0.0.1 only and says where', () => {
    expect(adapter.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(adapter.address().address).toBe('127.0.0.1');
  });

  it('turns a signed GET into a payload-2.0 event with the verified caller', async () => {
    const before = Date.now();
    const response = await signedFetch(`${adapter.url}/jobs/job-1?next=abc&x=1&x=2`, {
      ...SIGNING,
      headers: { 'x-custom': 'v', cookie: 'a=1; b=2' },
    });
    expect(response.status).toBe(200);
    const event = (await response.json()) as FunctionUrlEvent;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/jobs/job-1',
      rawQueryString: 'next=abc&x=1&x=2',
      queryStringParameters: { next: 'abc', x: '1,2' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'GET', path: '/jobs/job-1', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
        authorizer: { iam: { accessKey: 'AKIDLOCALTEST', accountId: '000000000000', cognitoIdentity: null } },
        routeKey: '$default',
        stage: '$default',
      },
    });
    expect(event.headers['host']).toBe(new URL(adapter.url).host);
    expect(event.headers['x-custom']).toBe('v');
    expect(event.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST\//);
    expect(event.headers['cookie']).toBeUndefined();
    expect(event.body).toBeUndefined();
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-amzn-requestid')).toBe(event.requestContext.requestId);
    expect(event.requestContext.timeEpoch).toBeGreaterThanOrEqual(before);
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('passes a JSON body as text and a binary body as base64, and writes base64 answers as bytes', async () => {
    const json = await signedFetch(`${adapter.url}/jobs`, {
      ...SIGNING,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"task":"square","items":[1,2,3]}',
    });
    const jsonEvent = (await json.json()) as FunctionUrlEvent;
    expect(jsonEvent).toMatchObject({ body: '{"task":"square","items":[1,2,3]}', isBase64Encoded: false });
    expect(jsonEvent.requestContext.http.method).toBe('POST');

    const bytes = new Uint8Array([0, 255, 1, 254]);
    const binary = await signedFetch(`${adapter.url}/upload`, {
      ...SIGNING,
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    const binaryEvent = (await binary.json()) as FunctionUrlEvent;
    expect(binaryEvent.isBase64Encoded).toBe(true);
    expect([...Buffer.from(binaryEvent.body!, 'base64')]).toEqual([0, 255, 1, 254]);

    const answer = await signedFetch(`${adapter.url}/binary`, SIGNING);
    expect(answer.status).toBe(201);
    expect(answer.headers.get('content-type')).toBe('application/octet-stream');
    expect(answer.headers.get('x-count')).toBe('3');
    expect([...new Uint8Array(await answer.arrayBuffer())]).toEqual([0, 1, 2]);
  });

  it('refuses an unsigned request with 403 ERR_UNSIGNED, before the handler', async () => {
    const calls = events.length;
    const response = await fetch(`${adapter.url}/jobs/job-1`);
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe('ERR_UNSIGNED');
    expect(body.error.message).toMatch(/^Missing Authentication Token/);
    expect(events.length).toBe(calls);
  });

  it('refuses a bad signature with 403: a wrong secret, a request changed after signing, an unknown key', async () => {
    const calls = events.length;
    const wrongSecret = await signedFetch(`${adapter.url}/jobs`, {
      region: 'us-east-1',
      credentials: { ...CREDENTIALS, secretAccessKey: 'guess' },
    });
    expect(wrongSecret.status).toBe(403);
    expect(((await wrongSecret.json()) as ErrorBody).error.code).toBe('ERR_BAD_SIGNATURE');

    const signed = await signRequest(`${adapter.url}/jobs/job-1`, { ...SIGNING, method: 'DELETE' });
    const { host: _host, ...headers } = signed.headers;
    const moved = await fetch(`${adapter.url}/jobs/job-2`, { method: 'DELETE', headers });
    expect(moved.status).toBe(403);
    expect(((await moved.json()) as ErrorBody).error).toEqual({
      code: 'ERR_BAD_SIGNATURE',
      message: expect.stringMatching(/^The request signature we calculated does not match/),
    });

    const unknown = await signedFetch(`${adapter.url}/jobs`, {
      region: 'us-east-1',
      credentials: { ...CREDENTIALS, accessKeyId: 'AKIDSOMEONE' },
    });
    expect(unknown.status).toBe(403);
    expect(((await unknown.json()) as ErrorBody).error.code).toBe('ERR_UNKNOWN_ACCESS_KEY');

    const otherRegion = await signedFetch(`${adapter.url}/jobs`, { ...SIGNING, region: 'eu-west-1' });
    expect(otherRegion.status).toBe(403);
    expect(((await otherRegion.json()) as ErrorBody).error.code).toBe('ERR_WRONG_SCOPE');
    expect(events.length).toBe(calls);
  });

  it('accepts a body of exactly 6 MiB and refuses one byte more with 413, declared or streamed', async () => {
    const exact = await signedFetch(`${adapter.url}/size`, { ...SIGNING, method: 'POST', body: new Uint8Array(SIX_MIB) });
    expect(exact.status).toBe(200);
    expect(await exact.json()).toEqual({ bytes: SIX_MIB });

    const calls = events.length;
    const over = await signedFetch(`${adapter.url}/size`, { ...SIGNING, method: 'POST', body: new Uint8Array(SIX_MIB + 1) });
    expect(over.status).toBe(413);
    const overBody = (await over.json()) as ErrorBody;
    expect(overBody.error.code).toBe('ERR_BODY_TOO_LARGE');
    expect(overBody.error.message).toMatch(/over the limit of 6291456 bytes/);

    // Chunked: no content-length to refuse up front; the count stops it.
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 20) controller.close();
        else {
          sent++;
          controller.enqueue(chunk);
        }
      },
    });
    const streamed = await fetch(`${adapter.url}/size`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as ErrorBody).error.code).toBe('ERR_BODY_TOO_LARGE');
    expect(events.length).toBe(calls);
  });

  it('answers a handler that throws with 500 and a JSON error, without the stack', async () => {
    const response = await signedFetch(`${adapter.url}/throw`, SIGNING);
    expect(response.status).toBe(500);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe('ERR_INTERNAL');
    expect(body.error.message).toContain(response.headers.get('x-amzn-requestid')!);
    expect(body.error.message).not.toMatch(/the handler broke|\bat /);
    expect((errors.at(-1) as Error).message).toBe('the handler broke');
  });

  it("verifies what users run: curl --aws-sigv4 'aws:amz:us-east-1:lambda' --user KEY:SECRET", async () => {
    const user = `${CREDENTIALS.accessKeyId}:${CREDENTIALS.secretAccessKey}`;
    const curl = async (...args: string[]) => {
      const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', '--aws-sigv4', 'aws:amz:us-east-1:lambda', ...args]);
      const cut = stdout.lastIndexOf('\n');
      return { status: Number(stdout.slice(cut + 1)), body: JSON.parse(stdout.slice(0, cut)) as unknown };
    };
    const get = await curl('--user', user, `${adapter.url}/jobs/job-1`);
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({
      rawPath: '/jobs/job-1',
      requestContext: { authorizer: { iam: { accessKey: 'AKIDLOCALTEST' } } },
    });

    const post = await curl(
      '--user',
      user,
      '-H',
      'content-type: application/json',
      '--data',
      '{"task":"square","items":[1,2]}',
      `${adapter.url}/jobs`,
    );
    expect(post.status).toBe(200);
    expect(post.body).toMatchObject({ body: '{"task":"square","items":[1,2]}', requestContext: { http: { method: 'POST' } } });

    const query = await curl('--user', user, `${adapter.url}/jobs/job-1/results?next=tok`);
    expect(query.status).toBe(200);
    expect(query.body).toMatchObject({ rawQueryString: 'next=tok', queryStringParameters: { next: 'tok' } });

    const wrong = await curl('--user', `${CREDENTIALS.accessKeyId}:not-the-secret`, `${adapter.url}/jobs/job-1`);
    expect(wrong).toMatchObject({ status: 403, body: { error: { code: 'ERR_BAD_SIGNATURE' } } });

    // Over the limit: curl asks first (Expect: 100-continue) and gets the 413 before sending;
    // without Expect it sends everything and still gets the 413, not a reset.
    const dir = await mkdtemp(join(tmpdir(), 'fanout-sigv4-'));
    try {
      const file = join(dir, 'seven-mb.bin');
      await writeFile(file, new Uint8Array(7_000_000));
      const calls = events.length;
      for (const expect100 of [[], ['-H', 'Expect:']]) {
        const big = await curl('--user', user, ...expect100, '--data-binary', `@${file}`, `${adapter.url}/size`);
        expect(big).toMatchObject({ status: 413, body: { error: { code: 'ERR_BODY_TOO_LARGE' } } });
      }
      expect(events.length).toBe(calls);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('FunctionUrlAdapter: without a verifier (auth type NONE), and its options', () => {
  it('serves unsigned requests, with no authorizer in the event, and a string result as a JSON body', async () => {
    const adapter = await FunctionUrlAdapter.start({
      verifier: null,
      handler: async (event) =>
        JSON.stringify({ authorizer: event.requestContext.authorizer ?? null, accountId: event.requestContext.accountId }),
    });
    try {
      const response = await fetch(`${adapter.url}/anything`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({ authorizer: null, accountId: 'anonymous' });
    } finally {
      await adapter.stop();
    }
  });

  it('answers a malformed handler result with 500 ERR_HANDLER_RESULT', async () => {
    const adapter = await FunctionUrlAdapter.start({
      verifier: null,
      handler: async () => ({ statusCode: 42, body: 'x' }),
    });
    try {
      const response = await fetch(`${adapter.url}/`);
      expect(response.status).toBe(500);
      expect(((await response.json()) as ErrorBody).error.code).toBe('ERR_HANDLER_RESULT');
    } finally {
      await adapter.stop();
    }
  });

  it('refuses bad options, and a port in use, with InvalidArgumentError', async () => {
    const handler = async () => ({ statusCode: 204 });
    await expect(FunctionUrlAdapter.start({ verifier: null, handler, port: 70_000 })).rejects.toThrow(InvalidArgumentError);
    await expect(FunctionUrlAdapter.start({ verifier: undefined as unknown as null, handler })).rejects.toThrow(
      /verifier must be a SigV4Verifier/,
    );
    await expect(FunctionUrlAdapter.start({ verifier: null, handler, maxBodyBytes: -1 })).rejects.toThrow(/maxBodyBytes/);
    const first = await FunctionUrlAdapter.start({ verifier: null, handler });
    try {
      await expect(FunctionUrlAdapter.start({ verifier: null, handler, port: first.address().port })).rejects.toThrow(
        /It is in use/,
      );
    } finally {
      await first.stop();
    }
  });

  it('200 malformed requests and raw garbage on the socket: all 4xx, never a 5xx or a crash', async () => {
    let handled = 0;
    const adapter = await FunctionUrlAdapter.start({
      verifier: new SigV4Verifier({ credentials: [CREDENTIALS], region: 'us-east-1' }),
      handler: async () => {
        handled++;
        return { statusCode: 200 };
      },
    });
    try {
      const good = await signRequest(`${adapter.url}/jobs`, SIGNING);
      const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
      const statuses = new Map<number, number>();
      for (let round = 0; round < 200; round++) {
        const garbage = randomBytes(8 + (round % 40));
        const headers: Record<string, string> = {
          // A real signature's header with one part replaced, or noise.
          authorization:
            round % 3 === 0
              ? good.headers['authorization']!.replace(/Signature=\w+/, `Signature=${garbage.toString('hex')}`)
              : round % 3 === 1
                ? `AWS4-HMAC-SHA256 ${garbage.toString('base64')}`
                : garbage.toString('base64'),
          'x-amz-date': round % 2 === 0 ? good.headers['x-amz-date']! : garbage.toString('hex'),
        };
        if (round % 5 === 0) headers['x-amz-content-sha256'] = garbage.toString('hex');
        if (round % 7 === 0) headers['x-amz-security-token'] = garbage.toString('base64');
        const path = `/jobs/${encodeURIComponent(garbage.toString('latin1'))}?${round % 4 === 0 ? 'x=%zz&' : ''}X-Amz-Signature=${round % 6 === 0 ? 'a' : ''}`;
        const method = methods[round % methods.length]!;
        const response = await fetch(`${adapter.url}${round % 2 === 0 ? path : path.split('?')[0]}`, {
          method,
          headers,
          ...(method === 'GET' || method === 'OPTIONS' ? {} : { body: garbage }),
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const body = (await response.json()) as ErrorBody;
        expect(body.error.code).toMatch(/^ERR_/);
      }
      expect(Object.fromEntries(statuses)).toEqual({ 403: 200 });
      expect(handled).toBe(0);

      const raw = async (bytes: string | Buffer) =>
        new Promise<string>((resolve) => {
          const socket = connect(adapter.address().port, '127.0.0.1');
          let answer = '';
          socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
          socket.on('error', () => resolve(answer));
          socket.on('close', () => resolve(answer));
          socket.end(bytes);
        });
      const lines = [
        'GARBAGE\r\n\r\n',
        'GET /jobs HTTP/9.9\r\n\r\n',
        'GET /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
        'POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        'GET not-a-path HTTP/1.1\r\nHost: x\r\n\r\n',
        randomBytes(300),
      ];
      for (const line of lines) expect(await raw(line)).toMatch(/^HTTP\/1\.1 4\d\d /);
      // Still serving.
      expect((await signedFetch(`${adapter.url}/jobs`, SIGNING)).status).toBe(200);
      expect(handled).toBe(1);
    } finally {
      await adapter.stop();
    }
  });
});

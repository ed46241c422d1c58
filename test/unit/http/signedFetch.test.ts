import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { SigV4Verifier } from '../../../lib/http/SigV4Verifier.js';
import { signRequest } from '../../../lib/http/signedFetch.js';

const CREDENTIALS = { accessKeyId: 'AKIDCLIENT', secretAccessKey: 'client-secret' };
const AT = new Date(Date.UTC(2026, 11, 2, 4, 0, 0));

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('signRequest', () => {
  it('signs what SigV4Verifier accepts: method, path, query, headers and body', async () => {
    const signed = await signRequest('http://127.0.0.1:4010/jobs/a%20b?next=t%2Fk&x=2&x=1', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Host: 'ignored.example' },
      body: '{"items":[1]}',
      region: 'us-east-1',
      credentials: CREDENTIALS,
      signingDate: AT,
    });
    expect(signed.headers).toMatchObject({
      host: '127.0.0.1:4010',
      'content-type': 'application/json',
      'x-amz-date': '20261202T040000Z',
    });
    expect(signed.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDCLIENT\/20261202\/us-east-1\/lambda\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    const url = new URL(signed.url);
    const verifier = new SigV4Verifier({ credentials: [CREDENTIALS], region: 'us-east-1', now: () => AT.getTime() });
    const request = {
      method: signed.method,
      path: url.pathname,
      rawQueryString: url.search.slice(1),
      headers: signed.headers,
      body: signed.body!,
    };
    expect(await verifier.verify(request)).toEqual({ ok: true, accessKeyId: 'AKIDCLIENT', via: 'header' });
    expect((await verifier.verify({ ...request, rawQueryString: 'next=t%2Fk&x=2' })).ok).toBe(false);
  });

  it("takes the region from a Function URL's host, else AWS_REGION, else refuses", async () => {
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    const fromHost = await signRequest('https://abc123.lambda-url.eu-west-2.on.aws/jobs', { credentials: CREDENTIALS });
    expect(fromHost.headers['authorization']).toContain('/eu-west-2/lambda/aws4_request');
    await expect(signRequest('http://127.0.0.1:4010/jobs', { credentials: CREDENTIALS })).rejects.toThrow(
      /region must be a region name such as us-east-1; got undefined\. It is not in the URL/,
    );
    vi.stubEnv('AWS_REGION', 'ap-south-1');
    const fromEnv = await signRequest('http://127.0.0.1:4010/jobs', { credentials: CREDENTIALS });
    expect(fromEnv.headers['authorization']).toContain('/ap-south-1/lambda/aws4_request');
  });

  it("loads the SDK's default credential chain when no credentials are given (here: the environment's, with a session token)", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'env-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'env-token');
    vi.stubEnv('AWS_PROFILE', '');
    const signed = await signRequest('http://127.0.0.1:4010/jobs', { region: 'us-east-1' });
    expect(signed.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFROMENV\//);
    expect(signed.headers['x-amz-security-token']).toBe('env-token');
  });

  it('refuses bad input with InvalidArgumentError', async () => {
    const ok = { region: 'us-east-1', credentials: CREDENTIALS };
    const bad: Array<[string | URL, object]> = [
      ['/jobs', ok],
      ['ftp://127.0.0.1/jobs', ok],
      ['http://127.0.0.1/jobs?a=%zz', ok],
      ['http://127.0.0.1/jobs', { ...ok, method: 'get' }],
      ['http://127.0.0.1/jobs', { ...ok, body: 42 }],
      ['http://127.0.0.1/jobs', { ...ok, headers: { 'x-n': 1 } }],
      ['http://127.0.0.1/jobs', { ...ok, region: 'Europe' }],
    ];
    for (const [url, options] of bad) {
      await expect(signRequest(url, options)).rejects.toThrow(InvalidArgumentError);
    }
  });
});

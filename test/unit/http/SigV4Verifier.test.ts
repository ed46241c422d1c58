import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { SigV4Verifier, type SignedRequest, type SigV4Result } from '../../../lib/http/SigV4Verifier.js';

const NOW = Date.UTC(2026, 11, 2, 3, 0, 0);
const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret' };
const BOB = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob-secret' };
const CAROL = { accessKeyId: 'ASIACAROL', secretAccessKey: 'carol-secret', sessionToken: 'carol-session-token' };

function verifier(now = NOW): SigV4Verifier {
  return new SigV4Verifier({ credentials: [ALICE, BOB, CAROL], region: 'us-east-1', now: () => now });
}

interface Unsigned {
  method?: string;
  path?: string;
  /** The query as the client sends it on the wire, and as the signer sees it (decoded). */
  rawQueryString?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
}

/** Signs with the AWS SDK's own signer, as a client would, and returns what the server receives. */
async function signed(
  request: Unsigned = {},
  options: {
    credentials?: AwsCredentialIdentity;
    region?: string;
    service?: string;
    date?: number;
    applyChecksum?: boolean;
  } = {},
): Promise<SignedRequest> {
  const signer = new SignatureV4({
    credentials: options.credentials ?? ALICE,
    region: options.region ?? 'us-east-1',
    service: options.service ?? 'lambda',
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? true,
  });
  const body = request.body === undefined ? undefined : new TextEncoder().encode(request.body);
  const result = await signer.sign(
    {
      method: request.method ?? 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4010,
      path: request.path ?? '/jobs/job-1',
      query: request.query ?? {},
      headers: { host: '127.0.0.1:4010', ...request.headers },
      body,
    },
    { signingDate: new Date(options.date ?? NOW) },
  );
  return {
    method: result.method,
    path: result.path,
    rawQueryString: request.rawQueryString ?? '',
    headers: { ...result.headers },
    body: body ?? new Uint8Array(),
  };
}

/** A presigned URL's request, from the SDK's presigner. */
async function presigned(request: Unsigned = {}, options: { date?: number; expiresIn?: number } = {}): Promise<SignedRequest> {
  const signer = new SignatureV4({ credentials: ALICE, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
  const result = await signer.presign(
    {
      method: request.method ?? 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: request.path ?? '/jobs/job-1',
      query: request.query ?? {},
      headers: { host: '127.0.0.1:4010', ...request.headers },
    },
    { signingDate: new Date(options.date ?? NOW), expiresIn: options.expiresIn ?? 300 },
  );
  const rawQueryString = Object.entries(result.query ?? {})
    .flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((item) => `${encodeURIComponent(name)}=${encodeURIComponent(String(item))}`),
    )
    .join('&');
  return { method: result.method, path: result.path, rawQueryString, headers: { ...result.headers }, body: new Uint8Array() };
}

function withHeader(request: SignedRequest, name: string, value: string | undefined): SignedRequest {
  const headers = { ...request.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { ...request, headers };
}

function authorization(request: SignedRequest): string {
  return request.headers['authorization'] as string;
}

function refusal(result: SigV4Result): { code: string; reason: string } {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(typeof result.reason).toBe('string');
  return { code: result.code, reason: result.reason };
}

describe('SigV4Verifier: requests signed by the AWS SDK signer', () => {
  it('accepts a signed GET with a query, naming the caller', async () => {
    const request = await signed({ rawQueryString: 'next=tok%20en&limit=10', query: { next: 'tok en', limit: '10' } });
    expect(await verifier().verify(request)).toEqual({ ok: true, accessKeyId: 'AKIDALICE', via: 'header' });
  });

  it('accepts a signed POST, with x-amz-content-sha256 and without it (the body hash then)', async () => {
    const post = {
      method: 'POST',
      path: '/jobs',
      headers: { 'content-type': 'application/json' },
      body: '{"task":"square","items":[1,2]}',
    };
    const withHash = await signed(post);
    expect(withHash.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect((await verifier().verify(withHash)).ok).toBe(true);
    const withoutHash = await signed(post, { applyChecksum: false });
    expect(withoutHash.headers['x-amz-content-sha256']).toBeUndefined();
    expect((await verifier().verify(withoutHash)).ok).toBe(true);
  });

  it('accepts UNSIGNED-PAYLOAD, which leaves the body out of the signature', async () => {
    const request = await signed({ method: 'POST', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: 'a' });
    expect((await verifier().verify(request)).ok).toBe(true);
    expect((await verifier().verify({ ...request, body: new TextEncoder().encode('b') })).ok).toBe(true);
  });

  it('canonicalizes repeated and empty query parameters, escapes and encoded paths as AWS does', async () => {
    const request = await signed({
      path: '/jobs/a%20b',
      rawQueryString: 'z=2&z=1&empty&v=x%20y%2F%C3%A9',
      query: { z: ['2', '1'], empty: '', v: 'x y/é' },
    });
    expect((await verifier().verify(request)).ok).toBe(true);
  });

  it('joins a repeated header with commas, as SigV4 canonicalizes it', async () => {
    const request = await signed({ headers: { 'x-multi': 'a,b' } });
    expect((await verifier().verify({ ...request, headers: { ...request.headers, 'x-multi': ['a', ' b '] } })).ok).toBe(true);
  });

  it('ignores headers outside SignedHeaders, as AWS does', async () => {
    const request = await signed();
    expect((await verifier().verify(withHeader(request, 'user-agent', 'changed/1.0'))).ok).toBe(true);
    expect((await verifier().verify(withHeader(request, 'x-added-later', 'x'))).ok).toBe(true);
  });

  it('accepts a session token that is signed, and one added after signing', async () => {
    const request = await signed({}, { credentials: CAROL });
    expect(authorization(request)).toContain('x-amz-security-token');
    expect(await verifier().verify(request)).toEqual({ ok: true, accessKeyId: 'ASIACAROL', via: 'header' });
    const unsignedToken = withHeader(
      await signed({}, { credentials: { ...CAROL, sessionToken: undefined } }),
      'x-amz-security-token',
      CAROL.sessionToken,
    );
    expect((await verifier().verify(unsignedToken)).ok).toBe(true);
  });
});

describe('SigV4Verifier: every single-field tamper is refused, with its reason', () => {
  const mismatch = /^The request signature we calculated does not match the signature you provided/;

  it('method, path, query, a signed header, the host, the date and the signature', async () => {
    const request = await signed({
      method: 'POST',
      path: '/jobs',
      rawQueryString: 'a=1',
      query: { a: '1' },
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const v = verifier();
    expect((await v.verify(request)).ok).toBe(true);
    const tampered: Record<string, SignedRequest> = {
      method: { ...request, method: 'PUT' },
      path: { ...request, path: '/jobs/other' },
      'query value': { ...request, rawQueryString: 'a=2' },
      'query added': { ...request, rawQueryString: 'a=1&b=2' },
      'signed header': withHeader(request, 'content-type', 'text/plain'),
      host: withHeader(request, 'host', '127.0.0.1:4011'),
      'date by one second': withHeader(request, 'x-amz-date', (request.headers['x-amz-date'] as string).replace(/00Z$/, '01Z')),
      signature: withHeader(
        request,
        'authorization',
        authorization(request).replace(/.$/, (last) => (last === '0' ? '1' : '0')),
      ),
      'key id of another known key': withHeader(request, 'authorization', authorization(request).replace('AKIDALICE', 'AKIDBOB')),
    };
    for (const [field, request] of Object.entries(tampered)) {
      const result = refusal(await v.verify(request));
      expect({ field, code: result.code }).toEqual({ field, code: 'ERR_BAD_SIGNATURE' });
      expect(result.reason).toMatch(mismatch);
    }
  });

  it('the body: against x-amz-content-sha256, or against the signature without it', async () => {
    const other = new TextEncoder().encode('{"task":"other"}');
    const withHash = await signed({ method: 'POST', body: '{"task":"square"}' });
    expect(refusal(await verifier().verify({ ...withHash, body: other }))).toEqual({
      code: 'ERR_CONTENT_SHA256_MISMATCH',
      reason: "The provided 'x-amz-content-sha256' header does not match what was computed.",
    });
    const withoutHash = await signed({ method: 'POST', body: '{"task":"square"}' }, { applyChecksum: false });
    expect(refusal(await verifier().verify({ ...withoutHash, body: other })).code).toBe('ERR_BAD_SIGNATURE');
  });

  it('the access key id: unknown', async () => {
    const request = await signed();
    const result = refusal(
      await verifier().verify(withHeader(request, 'authorization', authorization(request).replace('AKIDALICE', 'AKIDMALLORY'))),
    );
    expect(result).toEqual({
      code: 'ERR_UNKNOWN_ACCESS_KEY',
      reason: "The AWS Access Key Id you provided does not exist in our records: 'AKIDMALLORY'.",
    });
  });

  it('the scope: region, service, terminator, date', async () => {
    const request = await signed();
    const auth = authorization(request);
    const cases: Array<[string, string]> = [
      [
        auth.replace('/us-east-1/', '/eu-west-1/'),
        "Credential should be scoped to a valid region: 'us-east-1', not 'eu-west-1'.",
      ],
      [auth.replace('/lambda/', '/execute-api/'), "Credential should be scoped to correct service: 'lambda', not 'execute-api'."],
      [
        auth.replace('/aws4_request', '/aws5_request'),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
      ],
      [
        auth.replace('/20261202/', '/20261201/'),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261201' != '20261202', from '20261202T030000Z'.",
      ],
    ];
    for (const [header, reason] of cases) {
      expect(refusal(await verifier().verify(withHeader(request, 'authorization', header)))).toEqual({
        code: 'ERR_WRONG_SCOPE',
        reason,
      });
    }
  });

  it('a client that signs for another region, another service, or with the wrong secret', async () => {
    expect(refusal(await verifier().verify(await signed({}, { region: 'eu-west-1' }))).code).toBe('ERR_WRONG_SCOPE');
    expect(refusal(await verifier().verify(await signed({}, { service: 'execute-api' }))).code).toBe('ERR_WRONG_SCOPE');
    const wrongSecret = await signed({}, { credentials: { ...ALICE, secretAccessKey: 'guess' } });
    expect(refusal(await verifier().verify(wrongSecret)).code).toBe('ERR_BAD_SIGNATURE');
  });

  it('the session token: missing, wrong, or sent for a key that has none', async () => {
    const request = await signed({}, { credentials: CAROL });
    const missing = refusal(await verifier().verify(withHeader(request, 'x-amz-security-token', undefined)));
    expect(missing.code).toBe('ERR_INVALID_TOKEN');
    expect(missing.reason).toMatch(/^The security token included in the request is invalid\./);
    const wrong = await signed({}, { credentials: { ...CAROL, sessionToken: 'stolen' } });
    expect(refusal(await verifier().verify(wrong)).code).toBe('ERR_INVALID_TOKEN');
    const unexpected = await signed({}, { credentials: { ...ALICE, sessionToken: 'anything' } });
    expect(refusal(await verifier().verify(unexpected)).code).toBe('ERR_INVALID_TOKEN');
  });
});

describe('SigV4Verifier: the date window', () => {
  const minute = 60_000;

  it('accepts a date up to 5 minutes either side of now', async () => {
    const request = await signed();
    expect((await verifier(NOW + 5 * minute - 1000).verify(request)).ok).toBe(true);
    expect((await verifier(NOW - 5 * minute + 1000).verify(request)).ok).toBe(true);
  });

  it('refuses an expired date and a date too far in the future, in AWS words', async () => {
    const request = await signed();
    expect(refusal(await verifier(NOW + 5 * minute + 1000).verify(request))).toEqual({
      code: 'ERR_REQUEST_EXPIRED',
      reason: 'Signature expired: 20261202T030000Z is now earlier than 20261202T030001Z (20261202T030501Z - 5 min.)',
    });
    expect(refusal(await verifier(NOW - 5 * minute - 1000).verify(request))).toEqual({
      code: 'ERR_REQUEST_NOT_YET_VALID',
      reason: 'Signature not yet current: 20261202T030000Z is still later than 20261202T025959Z (20261202T025459Z + 5 min.)',
    });
  });
});

describe('SigV4Verifier: presigned URLs (X-Amz-Signature in the query)', () => {
  it('accepts a URL presigned by the SDK, until it expires', async () => {
    const request = await presigned({ query: { page: '2' } }, { expiresIn: 600 });
    expect(request.rawQueryString).toContain('X-Amz-Signature=');
    expect(await verifier(NOW + 599_000).verify(request)).toEqual({ ok: true, accessKeyId: 'AKIDALICE', via: 'query' });
    const expired = refusal(await verifier(NOW + 601_000).verify(request));
    expect(expired.code).toBe('ERR_REQUEST_EXPIRED');
    expect(expired.reason).toMatch(/^Request has expired/);
  });

  it('refuses a tampered path or query, a bad X-Amz-Expires, and a second auth mechanism', async () => {
    const request = await presigned({ query: { page: '2' } });
    expect(refusal(await verifier().verify({ ...request, path: '/jobs/job-2' })).code).toBe('ERR_BAD_SIGNATURE');
    expect(
      refusal(await verifier().verify({ ...request, rawQueryString: request.rawQueryString.replace('page=2', 'page=3') })).code,
    ).toBe('ERR_BAD_SIGNATURE');
    for (const expires of ['0', '604801', '-1', 'soon']) {
      const bad = { ...request, rawQueryString: request.rawQueryString.replace(/X-Amz-Expires=\d+/, `X-Amz-Expires=${expires}`) };
      expect(refusal(await verifier().verify(bad)).reason).toMatch(/^X-Amz-Expires must be a whole number of seconds/);
    }
    const both = refusal(await verifier().verify(withHeader(request, 'authorization', authorization(await signed()))));
    expect(both.code).toBe('ERR_MALFORMED_SIGNATURE');
    expect(both.reason).toMatch(/^Only one auth mechanism allowed/);
    const missing = { ...request, rawQueryString: request.rawQueryString.replace(/X-Amz-Credential=[^&]*&?/, '') };
    expect(refusal(await verifier().verify(missing)).reason).toMatch(/^Query-string authentication version 4 requires/);
  });
});

describe('SigV4Verifier: missing and malformed parts', () => {
  it('an unsigned request', async () => {
    const result = refusal(
      await verifier().verify({
        method: 'GET',
        path: '/jobs',
        rawQueryString: '',
        headers: { host: 'h' },
        body: new Uint8Array(),
      }),
    );
    expect(result.code).toBe('ERR_UNSIGNED');
    expect(result.reason).toMatch(/^Missing Authentication Token/);
  });

  it('host not signed, x-amz-date missing or malformed, a signed header missing', async () => {
    const request = await signed();
    // A client that never sent (so never signed) a host header.
    const unsignedHost = await (async () => {
      const signer = new SignatureV4({ credentials: ALICE, region: 'us-east-1', service: 'lambda', sha256: Sha256 });
      const result = await signer.sign(
        { method: 'GET', protocol: 'http:', hostname: 'h', path: '/', headers: { 'x-other': '1' } },
        { signingDate: new Date(NOW) },
      );
      return { method: 'GET', path: '/', rawQueryString: '', headers: { ...result.headers, host: 'h' }, body: new Uint8Array() };
    })();
    expect(refusal(await verifier().verify(unsignedHost))).toEqual({
      code: 'ERR_MALFORMED_SIGNATURE',
      reason: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    });
    expect(refusal(await verifier().verify(withHeader(request, 'x-amz-date', undefined))).reason).toMatch(
      /^Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header/,
    );
    expect(refusal(await verifier().verify(withHeader(request, 'x-amz-date', '2026-12-02T03:00:00Z'))).reason).toMatch(
      /^X-Amz-Date must be in the ISO8601 Long Format/,
    );
    expect(refusal(await verifier().verify(withHeader(request, 'x-amz-date', '20261302T030000Z'))).code).toBe(
      'ERR_MALFORMED_SIGNATURE',
    );
    const dropped = refusal(await verifier().verify(withHeader(request, 'x-amz-content-sha256', undefined)));
    expect(dropped).toEqual({
      code: 'ERR_BAD_SIGNATURE',
      reason: expect.stringContaining("The signed header 'x-amz-content-sha256' is not in the request."),
    });
  });

  it('garbage Authorization headers and requests are refused with a reason, never thrown', async () => {
    const good = await signed();
    const key = 'AKIDALICE/20261202/us-east-1/lambda/aws4_request';
    const hex = 'a'.repeat(64);
    const garbage = [
      '',
      ' ',
      'Bearer abc',
      'AWS4-HMAC-SHA256',
      'AWS4-HMAC-SHA256 ',
      'AWS4-HMAC-SHA256 Credential=',
      'AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=zz',
      `AWS4-HMAC-SHA256 Credential=${key}, SignedHeaders=HOST;X-Amz-Date, Signature=${hex}`,
      `AWS4-HMAC-SHA256 Credential=${key}, SignedHeaders=host;x-amz-date, Signature=${'A'.repeat(64)}`,
      `AWS4-HMAC-SHA256 Credential=${key}, Credential=${key}, SignedHeaders=host;x-amz-date, Signature=${hex}`,
      `AWS4-HMAC-SHA256 Credential=${key}/extra, SignedHeaders=host;x-amz-date, Signature=${hex}`,
      `AWS4-HMAC-SHA256 Credential=${key}, SignedHeaders=, Signature=${hex}`,
      `AWS4-HMAC-SHA256 Credential=${key}, SignedHeaders=host;;x-amz-date, Signature=${hex}`,
      `AWS4-HMAC-SHA256 Credential=${key}, SignedHeaders=host;x-amz-date;authorization, Signature=${hex}`,
      `AWS4-HMAC-SHA256 Credential=${key}, SignedHeaders=host;x-amz-date;date, Signature=${hex}`,
      'AWS4-HMAC-SHA256 Credential=\u0000/\u0000/\u0000/\u0000/\u0000, SignedHeaders=\u00e9, Signature=\ud83d',
      `AWS4-HMAC-SHA256 ${'Credential=x, '.repeat(10_000)}`,
      'x'.repeat(100_000),
    ];
    for (const header of garbage) {
      const result = refusal(await verifier().verify(withHeader(good, 'authorization', header)));
      expect(result.code).toMatch(/^ERR_/);
      expect(result.reason.length).toBeLessThan(2_000);
    }
    const malformedRequests = [
      { ...good, rawQueryString: 'a=%zz' },
      { ...good, headers: null },
      { ...good, headers: { authorization: 42 } },
      { ...good, headers: { ...good.headers, 'x-amz-date': ['20261202T030000Z', '20261202T030000Z'] } },
      { ...good, body: 'not bytes' },
      { ...good, method: undefined, path: undefined, rawQueryString: undefined },
      {},
    ] as unknown as SignedRequest[];
    for (const request of malformedRequests) {
      const result = await verifier().verify(request);
      expect(result.ok).toBe(false);
    }
    expect(refusal(await verifier().verify(null as unknown as SignedRequest)).code).toBe('ERR_MALFORMED_SIGNATURE');
  });

  it('random single-character mutations of a valid Authorization header are all refused, none thrown', async () => {
    const good = await signed();
    const header = authorization(good);
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const alphabet = 'abcdefABCDEF0123456789=,;/ \t-_\u00e9\u0000';
    let refused = 0;
    for (let round = 0; round < 300; round++) {
      const at = Math.floor(random() * header.length);
      const replacement = alphabet[Math.floor(random() * alphabet.length)]!;
      const mutated = header.slice(0, at) + replacement + header.slice(at + 1);
      const result = await verifier().verify(withHeader(good, 'authorization', mutated));
      if (result.ok) {
        // Only a no-op, or a change of the whitespace between fields, may still verify.
        expect(mutated.replace(/\s/g, '')).toBe(header.replace(/\s/g, ''));
      } else {
        expect(result.code).toMatch(/^ERR_/);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(250);
  });
});

describe('SigV4Verifier: options', () => {
  it('refuses bad options with InvalidArgumentError', () => {
    expect(() => new SigV4Verifier({ credentials: [], region: 'us-east-1' })).toThrow(InvalidArgumentError);
    expect(() => new SigV4Verifier({ credentials: [{ accessKeyId: 'a', secretAccessKey: '' }], region: 'us-east-1' })).toThrow(
      /credentials\[0\] must be an object with non-empty string accessKeyId/,
    );
    expect(() => new SigV4Verifier({ credentials: [ALICE], region: 'US East' })).toThrow(/region must be a region name/);
    expect(() => new SigV4Verifier({ credentials: [ALICE], region: 'us-east-1', service: '' })).toThrow(
      /service must be a service name/,
    );
  });
});

import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../../lib/backends/aws/AwsClients.js';
import type { AwsConfig } from '../../../lib/backends/aws/AwsConfig.js';
import { ApiRefusal } from '../../../lib/http/api/ApiRefusal.js';
import { JobApi } from '../../../lib/http/api/JobApi.js';
import { S3ItemUploads } from '../../../lib/http/api/S3ItemUploads.js';
import { FunctionUrlAdapter } from '../../../lib/http/FunctionUrlAdapter.js';
import { SigV4Verifier } from '../../../lib/http/SigV4Verifier.js';
import { signedFetch } from '../../../lib/http/signedFetch.js';
import { bucketKeys, provisionForTest } from '../awsHarness.js';
import { DOUBLE_TASKS, JobServiceDouble } from '../../unit/http/api/JobServiceDouble.js';

const CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };
const SIGNING = { region: 'us-east-1', credentials: CREDENTIALS };

describe('S3ItemUploads on fauxqs: presigned PUT URLs for item lists too big for a request body', () => {
  let config: AwsConfig;
  let clients: AwsClients;
  let uploads: S3ItemUploads;

  beforeAll(async () => {
    config = await provisionForTest('api-uploads');
    clients = new AwsClients(config);
    uploads = new S3ItemUploads(
      async () => ({ s3: clients.s3, bucket: config.bucket, region: config.region, endpoint: config.endpoints?.s3 }),
      { maxBytes: 8 * 1024 * 1024 },
    );
  });
  afterAll(() => clients?.destroy());

  it('hands out a SigV4-presigned PUT URL for uploads/<id> that a plain fetch PUT writes to, and reads the array back', async () => {
    const before = Date.now();
    const ticket = await uploads.create();
    expect(ticket).toMatchObject({ uploadId: expect.stringMatching(/^[0-9a-z]{26}$/), method: 'PUT', maxBytes: 8 * 1024 * 1024 });
    const url = new URL(ticket.url);
    expect(`${url.origin}`).toBe(config.endpoints!.s3);
    expect(url.pathname).toBe(`/${config.bucket}/uploads/${ticket.uploadId}`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': expect.stringMatching(/^fanout-local\/\d{8}\/us-east-1\/s3\/aws4_request$/),
      'X-Amz-Expires': '900',
      'X-Amz-SignedHeaders': 'host',
    });
    const expiresAt = Date.parse(ticket.expiresAt);
    expect(expiresAt - before).toBeGreaterThanOrEqual(899_000);
    expect(expiresAt - before).toBeLessThanOrEqual(901_000 + (Date.now() - before));

    // fauxqs takes any signature, so check this one as S3 would: SigV4 query auth, service s3.
    const verifier = new SigV4Verifier({ credentials: [CREDENTIALS], region: 'us-east-1', service: 's3' });
    const put = { method: 'PUT', path: url.pathname, rawQueryString: url.search.slice(1), headers: { host: url.host } };
    expect(await verifier.verify({ ...put, body: new Uint8Array(0) })).toMatchObject({ ok: true, via: 'query' });
    const tampered = url.search.slice(1).replace(ticket.uploadId, 'z'.repeat(26));
    expect(
      await verifier.verify({
        ...put,
        rawQueryString: tampered,
        path: put.path.replace(ticket.uploadId, 'z'.repeat(26)),
        body: new Uint8Array(0),
      }),
    ).toMatchObject({
      ok: false,
      code: 'ERR_BAD_SIGNATURE',
    });

    const items = Array.from({ length: 1000 }, (_, i) => ({ i, s: 'x'.repeat(i % 7) }));
    const response = await fetch(ticket.url, {
      method: 'PUT',
      body: JSON.stringify(items),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(200);
    expect(await bucketKeys(config)).toContain(`uploads/${ticket.uploadId}`);
    expect(await uploads.read(ticket.uploadId)).toEqual(items);

    await uploads.remove(ticket.uploadId);
    expect(await bucketKeys(config)).not.toContain(`uploads/${ticket.uploadId}`);
  });

  it('refuses with 400s an upload that is missing, too big, not UTF-8, not JSON, too deep or not an array', async () => {
    const put = async (body: string | Uint8Array) => {
      const ticket = await uploads.create();
      await clients.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: `uploads/${ticket.uploadId}`, Body: body }));
      return ticket.uploadId;
    };
    const refusal = async (uploadId: string) => {
      const error = await uploads.read(uploadId).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApiRefusal);
      return { status: (error as ApiRefusal).status, code: (error as ApiRefusal).code, message: (error as ApiRefusal).message };
    };
    expect(await refusal('m'.repeat(26))).toMatchObject({ status: 400, code: 'ERR_UPLOAD_NOT_FOUND' });
    expect(await refusal('../../etc/passwd')).toMatchObject({ status: 400, code: 'ERR_UPLOAD_NOT_FOUND' });
    const small = new S3ItemUploads(
      async () => ({ s3: clients.s3, bucket: config.bucket, region: config.region, endpoint: config.endpoints?.s3 }),
      { maxBytes: 10 },
    );
    const big = await put('[1,2,3,4,5,6,7,8,9]');
    expect(await small.read(big).catch((e: ApiRefusal) => [e.status, e.code, e.message])).toEqual([
      400,
      'ERR_UPLOAD_TOO_LARGE',
      `Upload '${big}' is 19 bytes; the API reads uploads of at most 10 bytes.`,
    ]);
    expect(await refusal(await put(new Uint8Array([0x5b, 0xff, 0x5d])))).toMatchObject({ code: 'ERR_INVALID_UTF8' });
    expect(await refusal(await put('[1, 2'))).toMatchObject({ code: 'ERR_BAD_JSON' });
    expect(await refusal(await put(`[${'['.repeat(300)}${']'.repeat(300)}]`))).toMatchObject({ code: 'ERR_JSON_TOO_DEEP' });
    expect(await refusal(await put('{"items":[1]}'))).toMatchObject({
      code: 'ERR_UPLOAD_NOT_AN_ARRAY',
      message: expect.stringMatching(/must hold the job's items as one JSON array; it holds an object/),
    });
  });
});

describe('POST /uploads then POST /jobs {itemsUpload} over signed HTTP (with a JobService test double, real S3 on fauxqs)', () => {
  let config: AwsConfig;
  let clients: AwsClients;
  let adapter: FunctionUrlAdapter;
  const jobs = new JobServiceDouble();

  beforeAll(async () => {
    config = await provisionForTest('api-upload-http');
    clients = new AwsClients(config);
    const uploads = new S3ItemUploads(async () => ({
      s3: clients.s3,
      bucket: config.bucket,
      region: config.region,
      endpoint: config.endpoints?.s3,
    }));
    const api = new JobApi(jobs, Object.keys(DOUBLE_TASKS), { uploads });
    adapter = await FunctionUrlAdapter.start({
      verifier: new SigV4Verifier({ credentials: [CREDENTIALS], region: 'us-east-1' }),
      handler: (event) => api.handle(event),
    });
  });
  afterAll(async () => {
    await adapter?.stop();
    clients?.destroy();
  });

  it('submits a 7 MB item list that the body limit refuses inline (413), and deletes the upload once the job is made', async () => {
    const items = Array.from({ length: 70_000 }, (_, i) => `${i}:${'y'.repeat(90)}`);
    const inline = JSON.stringify({ task: 'echo', items });
    expect(Buffer.byteLength(inline)).toBeGreaterThan(6 * 1024 * 1024);
    const refused = await signedFetch(`${adapter.url}/jobs`, {
      ...SIGNING,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: inline,
    });
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ERR_BODY_TOO_LARGE');

    const created = await signedFetch(`${adapter.url}/uploads`, { ...SIGNING, method: 'POST' });
    expect(created.status).toBe(201);
    const ticket = (await created.json()) as { uploadId: string; url: string; method: string };
    const put = await fetch(ticket.url, { method: ticket.method, body: JSON.stringify(items) });
    expect(put.status).toBe(200);

    const submitted = await signedFetch(`${adapter.url}/jobs`, {
      ...SIGNING,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'echo', itemsUpload: ticket.uploadId, chunksize: 1000 }),
    });
    expect(submitted.status).toBe(202);
    const { jobId, total } = (await submitted.json()) as { jobId: string; total: number };
    expect(total).toBe(70_000);
    expect(jobs.jobs.get(jobId)?.results).toEqual(items);
    expect(await bucketKeys(config)).not.toContain(`uploads/${ticket.uploadId}`);

    // Used once: the same upload again is a 400.
    const again = await signedFetch(`${adapter.url}/jobs`, {
      ...SIGNING,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'echo', itemsUpload: ticket.uploadId }),
    });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('ERR_UPLOAD_NOT_FOUND');
  });

  it('keeps the upload when the job is refused (an unknown task), so that a corrected request can use it', async () => {
    const ticket = (await (await signedFetch(`${adapter.url}/uploads`, { ...SIGNING, method: 'POST' })).json()) as {
      uploadId: string;
      url: string;
    };
    await fetch(ticket.url, { method: 'PUT', body: '[1,2,3]' });
    const refused = await signedFetch(`${adapter.url}/jobs`, {
      ...SIGNING,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'cube', itemsUpload: ticket.uploadId }),
    });
    expect(refused.status).toBe(400);
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: `uploads/${ticket.uploadId}` }));
    expect(await object.Body?.transformToString()).toBe('[1,2,3]');
  });
});

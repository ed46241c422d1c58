import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../../lib/errors.js';
import { S3ItemUploads, type S3UploadTarget } from '../../../../lib/http/api/S3ItemUploads.js';
import { SigV4Verifier } from '../../../../lib/http/SigV4Verifier.js';

const NOW = Date.UTC(2026, 11, 2, 7, 0, 0);
const ROLE = { accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret', sessionToken: 'role-token' };

/** A stand-in for the S3 client, with only what presigning reads: its credentials (no request is made). */
function target(expiration?: Date, endpoint?: string): () => Promise<S3UploadTarget> {
  const s3 = { config: { credentials: async () => ({ ...ROLE, ...(expiration ? { expiration } : {}) }) } } as unknown as S3Client;
  return async () => ({ s3, bucket: 'fanout-payloads-abc123', region: 'eu-west-3', endpoint });
}

async function verify(url: string, now = NOW) {
  const parsed = new URL(url);
  const verifier = new SigV4Verifier({ credentials: [ROLE], region: 'eu-west-3', service: 's3', now: () => now });
  return verifier.verify({
    method: 'PUT',
    path: parsed.pathname,
    rawQueryString: parsed.search.slice(1),
    headers: { host: parsed.host },
    body: new Uint8Array(0),
  });
}

describe('S3ItemUploads.create: presigned PUT URLs as AWS takes them (a stand-in S3 client supplying role credentials with a session token and expiry, which the emulator has none of; no request is made)', () => {
  it('signs a virtual-hosted URL for uploads/<id> with the role session token, for 15 minutes', async () => {
    const uploads = new S3ItemUploads(target(), { now: () => NOW });
    const ticket = await uploads.create();
    const url = new URL(ticket.url);
    expect(url.host).toBe('fanout-payloads-abc123.s3.eu-west-3.amazonaws.com');
    expect(url.pathname).toBe(`/uploads/${ticket.uploadId}`);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('role-token');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('ASIAROLE/20261202/eu-west-3/s3/aws4_request');
    expect(ticket).toMatchObject({ method: 'PUT', expiresAt: '2026-12-02T07:15:00.000Z', maxBytes: 64 * 1024 * 1024 });
    expect(await verify(ticket.url)).toMatchObject({ ok: true, accessKeyId: 'ASIAROLE', via: 'query' });
    expect(await verify(ticket.url, NOW + 901_000)).toMatchObject({ ok: false, code: 'ERR_REQUEST_EXPIRED' });
  });

  it('stops the URL when the signing credentials expire, if that is sooner', async () => {
    const uploads = new S3ItemUploads(target(new Date(NOW + 120_500)), { now: () => NOW });
    const ticket = await uploads.create();
    expect(new URL(ticket.url).searchParams.get('X-Amz-Expires')).toBe('120');
    expect(ticket.expiresAt).toBe('2026-12-02T07:02:00.000Z');
  });

  it('addresses an emulator path-style, under its endpoint', async () => {
    const uploads = new S3ItemUploads(target(undefined, 'http://127.0.0.1:4566/'), { now: () => NOW });
    const ticket = await uploads.create();
    expect(ticket.url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:4566/fanout-payloads-abc123/uploads/${ticket.uploadId}\\?X-Amz-`),
    );
    expect(await verify(ticket.url)).toMatchObject({ ok: true });
  });

  it('makes a new random id each time, and refuses bad options', async () => {
    const uploads = new S3ItemUploads(target());
    const ids = new Set(await Promise.all(Array.from({ length: 50 }, async () => (await uploads.create()).uploadId)));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{26}$/);
    expect(() => new S3ItemUploads(target(), { expiresInSeconds: 0 })).toThrow(InvalidArgumentError);
    expect(() => new S3ItemUploads(target(), { expiresInSeconds: 604_801 })).toThrow(/expiresInSeconds/);
    expect(() => new S3ItemUploads(target(), { maxBytes: 1.5 })).toThrow(/maxBytes must be a whole number of bytes/);
  });
});

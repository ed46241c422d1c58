import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { InvalidArgumentError } from '../../errors.js';
import { ApiRefusal } from './ApiRefusal.js';
import type { ItemUploads, UploadTicket } from './ItemUploads.js';
import { UPLOAD_ID_PATTERN } from './jobRequests.js';
import { decodeUtf8, parseJsonText } from './jsonText.js';

/** The bucket the uploads go to, and the client (with its credentials) that signs and reads them. */
export interface S3UploadTarget {
  s3: S3Client;
  bucket: string;
  region: string;
  /** An S3-compatible endpoint (an emulator), addressed path-style; unset means AWS's own. */
  endpoint?: string | undefined;
}

/** Options of {@link S3ItemUploads}. */
export interface S3ItemUploadsOptions {
  /** Seconds a presigned URL works (shorter when the signing credentials expire first). @default 900 */
  readonly expiresInSeconds?: number;
  /** The largest upload read, in bytes. @default 64 MiB */
  readonly maxBytes?: number;
  /** The clock, in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** Every upload is an object under this prefix of the payload bucket: `uploads/<uploadId>`. */
export const UPLOAD_KEY_PREFIX = 'uploads/';
/** The default largest upload: 64 MiB of JSON (the API Lambda parses it whole in memory). */
export const DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
const DEFAULT_EXPIRES_IN_SECONDS = 900;
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * Item uploads in the stack's payload bucket: each upload is the object `uploads/<uploadId>`,
 * written by the client with a presigned S3 PUT URL (SigV4 query signing with the API's own
 * credentials, so the API's role needs `s3:PutObject` on `uploads/*`), read back with
 * `s3:GetObject` when the job is submitted, and deleted with `s3:DeleteObject` once the job is
 * made (the bucket's lifecycle rule expires unused ones).
 *
 * @example
 * ```ts
 * const session = await backend.session();
 * const uploads = new S3ItemUploads(async () => ({
 *   s3: session.clients.s3,
 *   bucket: session.config.bucket,
 *   region: session.config.region,
 *   endpoint: session.config.endpoints?.s3,
 * }));
 * const { url } = await uploads.create();
 * ```
 */
export class S3ItemUploads implements ItemUploads {
  private readonly expiresInSeconds: number;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(
    private readonly target: () => Promise<S3UploadTarget>,
    options: S3ItemUploadsOptions = {},
  ) {
    this.expiresInSeconds = options.expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS;
    if (!Number.isSafeInteger(this.expiresInSeconds) || this.expiresInSeconds < 1 || this.expiresInSeconds > 604_800) {
      throw new InvalidArgumentError(
        'new S3ItemUploads(target, options): expiresInSeconds',
        options.expiresInSeconds,
        'a whole number of seconds from 1 to 604800 (a week, the longest a presigned URL lives)',
      );
    }
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 1) {
      throw new InvalidArgumentError(
        'new S3ItemUploads(target, options): maxBytes',
        options.maxBytes,
        'a whole number of bytes, 1 or more',
      );
    }
    this.now = options.now ?? Date.now;
  }

  /** The object key of an upload. */
  static key(uploadId: string): string {
    return `${UPLOAD_KEY_PREFIX}${uploadId}`;
  }

  async create(): Promise<UploadTicket> {
    const target = await this.target();
    const uploadId = newUploadId();
    const credentials = await target.s3.config.credentials();
    const now = this.now();
    // A URL signed with temporary credentials stops working when they expire: say when.
    const until = Math.min(now + this.expiresInSeconds * 1000, credentials.expiration?.getTime() ?? Infinity);
    const expiresIn = Math.max(1, Math.floor((until - now) / 1000));
    const url = objectUrl(target, S3ItemUploads.key(uploadId));
    const signer = new SignatureV4({
      credentials,
      region: target.region,
      service: 's3',
      sha256: Sha256,
      // S3 signs the path as sent (no second encoding); the key is letters, digits and '/'.
      uriEscapePath: false,
      applyChecksum: false,
    });
    const signed = await signer.presign(
      {
        method: 'PUT',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: {},
        headers: { host: url.host },
      },
      { expiresIn, signingDate: new Date(now) },
    );
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(signed.query ?? {})) {
      for (const item of Array.isArray(value) ? value : [value]) if (typeof item === 'string') query.append(name, item);
    }
    return {
      uploadId,
      url: `${url.origin}${url.pathname}?${query.toString().replace(/\+/g, '%20')}`,
      method: 'PUT',
      expiresAt: new Date(now + expiresIn * 1000).toISOString(),
      maxBytes: this.maxBytes,
    };
  }

  async read(uploadId: string): Promise<unknown[]> {
    const what = `Upload '${uploadId}'`;
    if (!UPLOAD_ID_PATTERN.test(uploadId)) throw notFound(uploadId);
    const target = await this.target();
    let object;
    try {
      object = await target.s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: S3ItemUploads.key(uploadId) }));
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
      if ((error as Error)?.name === 'NoSuchKey' || status === 404) throw notFound(uploadId);
      throw error;
    }
    const body = object.Body;
    if (object.ContentLength !== undefined && object.ContentLength > this.maxBytes) {
      (body as { destroy?: () => void } | undefined)?.destroy?.();
      throw tooLarge(what, object.ContentLength, this.maxBytes);
    }
    const bytes = body ? await body.transformToByteArray() : new Uint8Array(0);
    if (bytes.length > this.maxBytes) throw tooLarge(what, bytes.length, this.maxBytes);
    const items = parseJsonText(decodeUtf8(bytes, what), what);
    if (!Array.isArray(items)) {
      throw new ApiRefusal(
        400,
        'ERR_UPLOAD_NOT_AN_ARRAY',
        `${what} must hold the job's items as one JSON array; it holds ${items === null ? 'null' : typeof items === 'object' ? 'an object' : `a ${typeof items}`}.`,
      );
    }
    return items;
  }

  async remove(uploadId: string): Promise<void> {
    const target = await this.target();
    await target.s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: S3ItemUploads.key(uploadId) }));
  }
}

/** 26 random lower-case letters and digits (about 134 bits): an upload id nobody can guess. */
function newUploadId(): string {
  const bytes = randomBytes(26);
  let id = '';
  for (const byte of bytes) id += ID_ALPHABET[byte % 36];
  return id;
}

/** Path-style on an emulator's endpoint, virtual-hosted style on AWS (the bucket names of the stack are DNS-safe). */
function objectUrl(target: S3UploadTarget, key: string): URL {
  if (target.endpoint) {
    const base = new URL(target.endpoint);
    const prefix = base.pathname.replace(/\/+$/, '');
    return new URL(`${base.origin}${prefix}/${target.bucket}/${key}`);
  }
  return new URL(`https://${target.bucket}.s3.${target.region}.amazonaws.com/${key}`);
}

function notFound(uploadId: string): ApiRefusal {
  return new ApiRefusal(
    400,
    'ERR_UPLOAD_NOT_FOUND',
    `Upload '${uploadId}' holds nothing: PUT the items to the URL from POST /uploads first ` +
      '(an upload is used by one job and deleted then; unused ones expire with the bucket).',
  );
}

function tooLarge(what: string, bytes: number, maxBytes: number): ApiRefusal {
  return new ApiRefusal(
    400,
    'ERR_UPLOAD_TOO_LARGE',
    `${what} is ${bytes} bytes; the API reads uploads of at most ${maxBytes} bytes.`,
  );
}

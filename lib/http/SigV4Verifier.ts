import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { InvalidArgumentError } from '../errors.js';
import { groupQuery, parseQueryString } from './queryString.js';

/** An HTTP request as it arrived, for {@link SigV4Verifier.verify}. */
export interface SignedRequest {
  /** The method as sent, e.g. `GET`. */
  method: string;
  /** The path as sent on the wire (still percent-encoded), without the query string. */
  path: string;
  /** The query string as sent, without the `?` (`''` when there is none). */
  rawQueryString: string;
  /** The headers, names in any case; a repeated header as an array of its values. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The body's bytes (empty when there is none). */
  body: Uint8Array;
}

/**
 * Why a request was refused: stable codes, one per kind of fault.
 * - `ERR_UNSIGNED`: neither an `Authorization` header nor an `X-Amz-Signature` query parameter.
 * - `ERR_MALFORMED_SIGNATURE`: the signature's parts cannot be read (bad header, missing
 *   parameter, `host` not signed, no `X-Amz-Date`, both auth mechanisms at once, ...).
 * - `ERR_UNKNOWN_ACCESS_KEY`: the access key id is not one of the known credentials.
 * - `ERR_INVALID_TOKEN`: the session token is missing, unexpected or wrong for that key.
 * - `ERR_WRONG_SCOPE`: the credential scope names another region, service, date or terminator.
 * - `ERR_REQUEST_EXPIRED` / `ERR_REQUEST_NOT_YET_VALID`: the date is outside the allowed window.
 * - `ERR_CONTENT_SHA256_MISMATCH`: `x-amz-content-sha256` is not the body's hash.
 * - `ERR_BAD_SIGNATURE`: the signature does not match (wrong secret, or the request changed).
 */
export type SigV4RefusalCode =
  | 'ERR_UNSIGNED'
  | 'ERR_MALFORMED_SIGNATURE'
  | 'ERR_UNKNOWN_ACCESS_KEY'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_WRONG_SCOPE'
  | 'ERR_REQUEST_EXPIRED'
  | 'ERR_REQUEST_NOT_YET_VALID'
  | 'ERR_CONTENT_SHA256_MISMATCH'
  | 'ERR_BAD_SIGNATURE';

/** What {@link SigV4Verifier.verify} decided: the caller's access key, or why not. */
export type SigV4Result =
  { ok: true; accessKeyId: string; via: 'header' | 'query' } | { ok: false; code: SigV4RefusalCode; reason: string };

/** Options of {@link SigV4Verifier}. */
export interface SigV4VerifierOptions {
  /** The credentials a caller may sign with; a key with a `sessionToken` requires that token. */
  readonly credentials: readonly AwsCredentialIdentity[];
  /** The region the credential scope must name, e.g. `us-east-1`. */
  readonly region: string;
  /** The service the credential scope must name. @default 'lambda' */
  readonly service?: string;
  /** The clock, in epoch milliseconds (tests inject one). @default Date.now */
  readonly now?: () => number;
}

/** AWS accepts a signed request within 5 minutes of its `X-Amz-Date`, either way. */
const MAX_SKEW_MS = 5 * 60 * 1000;
/** The longest life of a presigned URL AWS allows: 7 days. */
const MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60;
const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const QUERY_AUTH_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
] as const;
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const LONG_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The parts of a signature, from the `Authorization` header or the query string. */
interface SignatureParts {
  via: 'header' | 'query';
  accessKeyId: string;
  scopeDate: string;
  scopeRegion: string;
  scopeService: string;
  scopeTerminator: string;
  signedHeaders: string[];
  signature: string;
  longDate: string;
  /** Presigned only: the URL's life in seconds. */
  expiresIn?: number;
  /** The session token the request carries, if any. */
  token: string | undefined;
  /** Whether the token is among the signed parts (always, for a presigned URL). */
  tokenSigned: boolean;
}

type Refusal = Extract<SigV4Result, { ok: false }>;

/**
 * Verifies SigV4-signed HTTP requests as AWS does for a Lambda Function URL with `AWS_IAM` auth:
 * the `Authorization` header (or presigned `X-Amz-*` query parameters), the credential scope
 * (region, service, date, `aws4_request`), `X-Amz-Date` within 5 minutes of now,
 * `x-amz-content-sha256` (or `UNSIGNED-PAYLOAD`) against the body, the session token of keys
 * that have one, and `host` among the signed headers. The expected signature is computed by the
 * AWS SDK's own signer (`@smithy/signature-v4`) over a copy of the request with the request's
 * date and signed headers, and compared in constant time. `verify` never throws: garbage is a
 * refusal with a reason, worded as AWS words it where AWS has words for it.
 *
 * @example
 * ```ts
 * const verifier = new SigV4Verifier({
 *   credentials: [{ accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' }],
 *   region: 'us-east-1',
 * });
 * const result = await verifier.verify({ method: 'GET', path: '/jobs', rawQueryString: '', headers: {}, body: new Uint8Array() });
 * if (!result.ok) console.log(result.code, result.reason); // ERR_UNSIGNED Missing Authentication Token: ...
 * ```
 */
export class SigV4Verifier {
  /** The region the credential scope must name. */
  readonly region: string;
  /** The service the credential scope must name. */
  readonly service: string;
  private readonly credentials = new Map<string, AwsCredentialIdentity>();
  private readonly now: () => number;

  constructor(options: SigV4VerifierOptions) {
    if (!Array.isArray(options?.credentials) || options.credentials.length === 0) {
      throw new InvalidArgumentError(
        'new SigV4Verifier(options): credentials',
        options?.credentials,
        'a non-empty array of { accessKeyId, secretAccessKey, sessionToken? }',
      );
    }
    for (const [index, credential] of options.credentials.entries()) {
      if (
        typeof credential?.accessKeyId !== 'string' ||
        credential.accessKeyId === '' ||
        typeof credential.secretAccessKey !== 'string' ||
        credential.secretAccessKey === '' ||
        (credential.sessionToken !== undefined && typeof credential.sessionToken !== 'string')
      ) {
        throw new InvalidArgumentError(
          `new SigV4Verifier(options): credentials[${index}]`,
          credential,
          'an object with non-empty string accessKeyId and secretAccessKey (and an optional string sessionToken)',
        );
      }
      this.credentials.set(credential.accessKeyId, credential);
    }
    if (typeof options.region !== 'string' || !/^[a-z0-9-]+$/.test(options.region)) {
      throw new InvalidArgumentError('new SigV4Verifier(options): region', options.region, 'a region name such as us-east-1');
    }
    const service = options.service ?? 'lambda';
    if (typeof service !== 'string' || !/^[a-z0-9-]+$/.test(service)) {
      throw new InvalidArgumentError('new SigV4Verifier(options): service', options.service, 'a service name such as lambda');
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new InvalidArgumentError('new SigV4Verifier(options): now', options.now, 'a function returning epoch milliseconds');
    }
    this.region = options.region;
    this.service = service;
    this.now = options.now ?? Date.now;
  }

  /** Checks one request's signature; resolves to the caller's access key id, or why it was refused. */
  async verify(request: SignedRequest): Promise<SigV4Result> {
    try {
      return await this.check(request);
    } catch (error) {
      // The checks above the signer reject every malformed part they know of; this is a last
      // guard so that no input can turn into a 500.
      return refuse(
        'ERR_MALFORMED_SIGNATURE',
        `The signature could not be checked: ${(error as Error)?.message ?? String(error)}`,
      );
    }
  }

  private async check(request: SignedRequest): Promise<SigV4Result> {
    const body = request.body ?? new Uint8Array();
    if (!(body instanceof Uint8Array)) return refuse('ERR_MALFORMED_SIGNATURE', 'The request body is not bytes (a Uint8Array).');
    const headers = normalizeHeaders(request.headers);
    if (headers === undefined) return refuse('ERR_MALFORMED_SIGNATURE', 'The request headers are not readable.');
    const rawQuery = typeof request.rawQueryString === 'string' ? request.rawQueryString : '';
    const pairs = parseQueryString(rawQuery);
    if (pairs === undefined) {
      return refuse('ERR_MALFORMED_SIGNATURE', 'The query string has a malformed percent-escape, so it cannot be canonicalized.');
    }
    const authorization = headers.get('authorization');
    const presigned = pairs.some(([name]) => name === 'X-Amz-Signature' || name === 'X-Amz-Algorithm');
    if (authorization !== undefined && presigned) {
      return refuse(
        'ERR_MALFORMED_SIGNATURE',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified.',
      );
    }
    if (authorization === undefined && !presigned) {
      return refuse(
        'ERR_UNSIGNED',
        `Missing Authentication Token: the request has neither an Authorization header nor an X-Amz-Signature query parameter ` +
          `(sign it with SigV4 for service '${this.service}' in region '${this.region}').`,
      );
    }
    const parts = authorization !== undefined ? readAuthorizationHeader(authorization, headers) : readQueryAuth(pairs);
    if ('ok' in parts) return parts;

    const scopeRefusal = this.checkScope(parts);
    if (scopeRefusal) return scopeRefusal;
    const timeRefusal = this.checkTime(parts);
    if (timeRefusal) return timeRefusal;

    const credential = this.credentials.get(parts.accessKeyId);
    if (credential === undefined) {
      return refuse(
        'ERR_UNKNOWN_ACCESS_KEY',
        `The AWS Access Key Id you provided does not exist in our records: '${clip(parts.accessKeyId)}'.`,
      );
    }
    const tokenRefusal = checkToken(credential, parts);
    if (tokenRefusal) return tokenRefusal;

    if (!parts.signedHeaders.includes('host')) {
      return refuse('ERR_MALFORMED_SIGNATURE', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    for (const name of parts.signedHeaders) {
      if (!headers.has(name)) {
        return refuse('ERR_BAD_SIGNATURE', `${SIGNATURE_MISMATCH} (The signed header '${clip(name)}' is not in the request.)`);
      }
    }
    const contentHash = headers.get('x-amz-content-sha256');
    if (contentHash !== undefined && contentHash !== UNSIGNED_PAYLOAD) {
      if (!HEX_SHA256.test(contentHash)) {
        return refuse(
          'ERR_MALFORMED_SIGNATURE',
          `x-amz-content-sha256 must be the body's SHA-256 in lowercase hex or UNSIGNED-PAYLOAD; got '${clip(contentHash)}'.`,
        );
      }
      const actual = createHash('sha256').update(body).digest('hex');
      if (!timingSafeEqual(Buffer.from(actual), Buffer.from(contentHash))) {
        return refuse(
          'ERR_CONTENT_SHA256_MISMATCH',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
      }
    }

    const expected = await this.expectedSignature(request, body, headers, pairs, parts, credential);
    if (typeof expected !== 'string') return expected;
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(parts.signature)))
      return refuse('ERR_BAD_SIGNATURE', SIGNATURE_MISMATCH);
    return { ok: true, accessKeyId: parts.accessKeyId, via: parts.via };
  }

  private checkScope(parts: SignatureParts): Refusal | undefined {
    if (parts.scopeTerminator !== TERMINATOR) {
      return refuse(
        'ERR_WRONG_SCOPE',
        `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${clip(parts.scopeTerminator)}'.`,
      );
    }
    if (parts.scopeService !== this.service) {
      return refuse(
        'ERR_WRONG_SCOPE',
        `Credential should be scoped to correct service: '${this.service}', not '${clip(parts.scopeService)}'.`,
      );
    }
    if (parts.scopeRegion !== this.region) {
      return refuse(
        'ERR_WRONG_SCOPE',
        `Credential should be scoped to a valid region: '${this.region}', not '${clip(parts.scopeRegion)}'.`,
      );
    }
    if (parts.scopeDate !== parts.longDate.slice(0, 8)) {
      return refuse(
        'ERR_WRONG_SCOPE',
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
          `'${clip(parts.scopeDate)}' != '${parts.longDate.slice(0, 8)}', from '${parts.longDate}'.`,
      );
    }
    return undefined;
  }

  private checkTime(parts: SignatureParts): Refusal | undefined {
    // Checked when the parts were read.
    const signedAt = parseLongDate(parts.longDate)!;
    const now = this.now();
    if (signedAt - now > MAX_SKEW_MS) {
      return refuse(
        'ERR_REQUEST_NOT_YET_VALID',
        `Signature not yet current: ${parts.longDate} is still later than ${longDate(now + MAX_SKEW_MS)} (${longDate(now)} + 5 min.)`,
      );
    }
    if (parts.expiresIn !== undefined) {
      if (now > signedAt + parts.expiresIn * 1000) {
        return refuse(
          'ERR_REQUEST_EXPIRED',
          `Request has expired: it was signed at ${parts.longDate} for ${parts.expiresIn} seconds, and it is now ${longDate(now)}.`,
        );
      }
    } else if (now - signedAt > MAX_SKEW_MS) {
      return refuse(
        'ERR_REQUEST_EXPIRED',
        `Signature expired: ${parts.longDate} is now earlier than ${longDate(now - MAX_SKEW_MS)} (${longDate(now)} - 5 min.)`,
      );
    }
    return undefined;
  }

  /** Re-signs a copy of the request with the SDK's signer and returns the signature it computes. */
  private async expectedSignature(
    request: SignedRequest,
    body: Uint8Array,
    headers: Map<string, string>,
    pairs: Array<[string, string]>,
    parts: SignatureParts,
    credential: AwsCredentialIdentity,
  ): Promise<string | Refusal> {
    const signed = new Set(parts.signedHeaders);
    const copyHeaders: Record<string, string> = {};
    for (const name of signed) {
      // The signer sets these itself, from the signing date and the credentials.
      if (name === 'x-amz-date' || (name === 'x-amz-security-token' && parts.via === 'header')) continue;
      copyHeaders[name] = headers.get(name)!;
    }
    const authParams = new Set<string>(parts.via === 'query' ? [...QUERY_AUTH_PARAMS, 'X-Amz-Security-Token'] : []);
    const copy = {
      method: typeof request.method === 'string' ? request.method : '',
      protocol: 'https:',
      hostname: headers.get('host') ?? '',
      path: typeof request.path === 'string' && request.path !== '' ? request.path : '/',
      query: groupQuery(pairs.filter(([name]) => !authParams.has(name))),
      headers: copyHeaders,
      body,
    };
    const identity: AwsCredentialIdentity = {
      accessKeyId: credential.accessKeyId,
      secretAccessKey: credential.secretAccessKey,
      ...(parts.tokenSigned && credential.sessionToken !== undefined ? { sessionToken: credential.sessionToken } : {}),
    };
    const signer = new SignatureV4({
      credentials: identity,
      region: this.region,
      service: this.service,
      sha256: Sha256,
      applyChecksum: false,
      uriEscapePath: true,
    });
    const signingDate = new Date(parseLongDate(parts.longDate)!);
    let signature: string | undefined;
    let computedHeaders: string | undefined;
    if (parts.via === 'header') {
      const result = await signer.sign(copy, { signingDate, signableHeaders: signed });
      const header = result.headers['authorization'] ?? '';
      signature = /Signature=([0-9a-f]{64})$/.exec(header)?.[1];
      computedHeaders = /SignedHeaders=([^,]*),/.exec(header)?.[1];
    } else {
      const unhoistable = new Set([...signed].filter((name) => name.startsWith('x-amz-')));
      const result = await signer.presign(copy, {
        signingDate,
        expiresIn: parts.expiresIn,
        signableHeaders: signed,
        unhoistableHeaders: unhoistable,
      });
      const query = result.query as Record<string, string | string[] | null>;
      const value = query['X-Amz-Signature'];
      signature = typeof value === 'string' ? value : undefined;
      const list = query['X-Amz-SignedHeaders'];
      computedHeaders = typeof list === 'string' ? list : undefined;
    }
    if (signature === undefined)
      return refuse('ERR_MALFORMED_SIGNATURE', 'The signature could not be computed for this request.');
    const claimed = [...signed].sort().join(';');
    if (computedHeaders !== claimed) {
      // The signer leaves out headers it never signs (authorization, date): a signature over
      // them cannot be reproduced here.
      return refuse(
        'ERR_BAD_SIGNATURE',
        `${SIGNATURE_MISMATCH} (Signed headers '${clip(claimed)}' cannot all be signed; signable here: '${computedHeaders ?? ''}'.)`,
      );
    }
    return signature;
  }
}

/** Reads `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` and `X-Amz-Date`. */
function readAuthorizationHeader(authorization: string, headers: Map<string, string>): SignatureParts | Refusal {
  const space = authorization.indexOf(' ');
  const algorithm = space === -1 ? authorization : authorization.slice(0, space);
  if (algorithm !== ALGORITHM) {
    return refuse(
      'ERR_MALFORMED_SIGNATURE',
      `The Authorization header's algorithm must be ${ALGORITHM}; got '${clip(algorithm)}'.`,
    );
  }
  const fields = new Map<string, string>();
  for (const piece of authorization.slice(space + 1).split(',')) {
    const field = piece.trim();
    if (field === '') continue;
    const equals = field.indexOf('=');
    const name = equals === -1 ? field : field.slice(0, equals);
    if (fields.has(name)) return refuse('ERR_MALFORMED_SIGNATURE', `The Authorization header names '${clip(name)}' twice.`);
    fields.set(name, equals === -1 ? '' : field.slice(equals + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !fields.get(name));
  if (missing.length > 0) {
    return refuse(
      'ERR_MALFORMED_SIGNATURE',
      missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ') +
        ` Authorization=${clip(authorization)}`,
    );
  }
  const longDate = headers.get('x-amz-date');
  if (longDate === undefined) {
    return refuse(
      'ERR_MALFORMED_SIGNATURE',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header (this verifier reads 'X-Amz-Date').",
    );
  }
  const common = readCommonParts(fields.get('Credential')!, fields.get('SignedHeaders')!, fields.get('Signature')!, longDate);
  if ('ok' in common) return common;
  if (!common.signedHeaders.includes('x-amz-date')) {
    return refuse('ERR_MALFORMED_SIGNATURE', "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const token = headers.get('x-amz-security-token');
  return { ...common, via: 'header', token, tokenSigned: common.signedHeaders.includes('x-amz-security-token') };
}

/** Reads presigned-URL authentication: `X-Amz-Algorithm`, `X-Amz-Credential`, ... in the query. */
function readQueryAuth(pairs: Array<[string, string]>): SignatureParts | Refusal {
  const values = new Map<string, string>();
  for (const [name, value] of pairs) {
    if (!name.startsWith('X-Amz-')) continue;
    if (values.has(name)) return refuse('ERR_MALFORMED_SIGNATURE', `The query string names '${clip(name)}' twice.`);
    values.set(name, value);
  }
  if (QUERY_AUTH_PARAMS.some((name) => !values.get(name))) {
    return refuse(
      'ERR_MALFORMED_SIGNATURE',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (values.get('X-Amz-Algorithm') !== ALGORITHM)
    return refuse('ERR_MALFORMED_SIGNATURE', `X-Amz-Algorithm only supports "${ALGORITHM}".`);
  const expires = values.get('X-Amz-Expires')!;
  const expiresIn = /^\d{1,7}$/.test(expires) ? Number(expires) : NaN;
  if (!(expiresIn >= 1 && expiresIn <= MAX_PRESIGNED_SECONDS)) {
    return refuse(
      'ERR_MALFORMED_SIGNATURE',
      `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGNED_SECONDS} (a week); got '${clip(expires)}'.`,
    );
  }
  const common = readCommonParts(
    values.get('X-Amz-Credential')!,
    values.get('X-Amz-SignedHeaders')!,
    values.get('X-Amz-Signature')!,
    values.get('X-Amz-Date')!,
  );
  if ('ok' in common) return common;
  return { ...common, via: 'query', expiresIn, token: values.get('X-Amz-Security-Token'), tokenSigned: true };
}

function readCommonParts(
  credential: string,
  signedHeaders: string,
  signature: string,
  longDate: string,
): Omit<SignatureParts, 'via' | 'token' | 'tokenSigned'> | Refusal {
  if (parseLongDate(longDate) === undefined) {
    return refuse(
      'ERR_MALFORMED_SIGNATURE',
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"; got '${clip(longDate)}'.`,
    );
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope.some((part) => part === '')) {
    return refuse(
      'ERR_MALFORMED_SIGNATURE',
      `The Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"; got '${clip(credential)}'.`,
    );
  }
  const names = signedHeaders.split(';');
  const badName = names.find((name) => !HEADER_NAME.test(name));
  if (badName !== undefined) {
    return refuse(
      'ERR_MALFORMED_SIGNATURE',
      `SignedHeaders must be lowercase header names separated by ';'; got '${clip(signedHeaders)}'.`,
    );
  }
  if (!HEX_SHA256.test(signature)) {
    return refuse(
      'ERR_BAD_SIGNATURE',
      `${SIGNATURE_MISMATCH} (The signature must be 64 lowercase hex digits; got '${clip(signature)}'.)`,
    );
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeService, scopeTerminator] = scope as [string, string, string, string, string];
  return { accessKeyId, scopeDate, scopeRegion, scopeService, scopeTerminator, signedHeaders: names, signature, longDate };
}

function checkToken(credential: AwsCredentialIdentity, parts: SignatureParts): Refusal | undefined {
  const expected = credential.sessionToken;
  const invalid = 'The security token included in the request is invalid.';
  if (expected === undefined) {
    return parts.token === undefined
      ? undefined
      : refuse(
          'ERR_INVALID_TOKEN',
          `${invalid} (Access key '${parts.accessKeyId}' has no session token, and the request carries one.)`,
        );
  }
  if (parts.token === undefined) {
    return refuse(
      'ERR_INVALID_TOKEN',
      `${invalid} (Access key '${parts.accessKeyId}' needs its session token in X-Amz-Security-Token.)`,
    );
  }
  const given = Buffer.from(parts.token);
  const wanted = Buffer.from(expected);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return refuse('ERR_INVALID_TOKEN', invalid);
  return undefined;
}

/** Lower-cased names; repeated values joined with ',' after trimming each, as SigV4 canonicalizes them. */
function normalizeHeaders(headers: SignedRequest['headers']): Map<string, string> | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const normalized = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
    if (values === undefined || values.some((item) => typeof item !== 'string')) return undefined;
    const key = name.toLowerCase();
    const joined = values.map((item: string) => item.trim()).join(',');
    const previous = normalized.get(key);
    normalized.set(key, previous === undefined ? joined : `${previous},${joined}`);
  }
  return normalized;
}

/** `20260102T030405Z` → epoch milliseconds, or `undefined` for anything else (month 13 included). */
function parseLongDate(text: string): number | undefined {
  const match = LONG_DATE.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  return longDate(time) === text ? time : undefined;
}

function longDate(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

function refuse(code: SigV4RefusalCode, reason: string): Refusal {
  return { ok: false, code, reason };
}

/** Caps an echoed value, so that a refusal never repeats a huge or hostile input in full. */
function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 120 ? `${printable.slice(0, 120)}...` : printable;
}

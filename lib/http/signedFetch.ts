/**
 * AWS credentials, the shape of the SDK's own (written here, so that the published declarations
 * need none of the SDK's type packages).
 */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}
/** Something that resolves to credentials, as the SDK's credential providers do. */
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;
import { InvalidArgumentError } from '../errors.js';
import { groupQuery, parseQueryString } from './queryString.js';

/** Options of {@link signRequest} and {@link signedFetch}. */
export interface SignedFetchOptions {
  /** @default 'GET' */
  readonly method?: string;
  /** Extra headers, signed with the request (`host` is set from the URL). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body: a string is sent as UTF-8. */
  readonly body?: string | Uint8Array;
  /**
   * The region to sign for. @default the region in a Function URL's host
   * (`<id>.lambda-url.<region>.on.aws`), else `AWS_REGION`, else `AWS_DEFAULT_REGION`
   */
  readonly region?: string;
  /** The service to sign for. @default 'lambda' */
  readonly service?: string;
  /**
   * The credentials, or a provider of them. @default the AWS SDK's default provider chain
   * (environment, shared config and SSO, container and instance roles), loaded on first use
   */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The signing time. @default now */
  readonly signingDate?: Date;
  /** Aborts the fetch. */
  readonly signal?: AbortSignal;
}

/** A request signed by {@link signRequest}: what `fetch` (or curl) must send, exactly. */
export interface SignedRequestInit {
  readonly url: string;
  readonly method: string;
  /** Every header to send, `authorization` and `x-amz-*` included (`host` is the URL's). */
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | undefined;
}

/**
 * Signs a request with SigV4, with the AWS SDK's own signer, without sending it: the headers to
 * send with the URL, for a client other than `fetch` or to inspect them.
 *
 * @example
 * ```ts
 * const signed = await signRequest('http://127.0.0.1:4000/jobs', {
 *   method: 'POST',
 *   body: JSON.stringify({ task: 'square', items: [1, 2, 3] }),
 *   region: 'us-east-1',
 *   credentials: { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' },
 * });
 * signed.headers.authorization; // 'AWS4-HMAC-SHA256 Credential=fanout-local/...'
 * ```
 */
export async function signRequest(url: string | URL, options: SignedFetchOptions = {}): Promise<SignedRequestInit> {
  const target = parseTarget(url);
  const method = options.method ?? 'GET';
  if (typeof method !== 'string' || !/^[A-Z]+$/.test(method)) {
    throw new InvalidArgumentError(
      'signedFetch(url, options): method',
      options.method,
      'an HTTP method in capitals, such as GET or POST',
    );
  }
  const body = typeof options.body === 'string' ? new TextEncoder().encode(options.body) : options.body;
  if (body !== undefined && !(body instanceof Uint8Array)) {
    throw new InvalidArgumentError('signedFetch(url, options): body', options.body, 'a string or a Uint8Array');
  }
  const query = parseQueryString(target.search.slice(1));
  if (query === undefined) {
    throw new InvalidArgumentError('signedFetch(url): the query string', target.search, 'valid percent-encoding');
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (typeof value !== 'string') {
      throw new InvalidArgumentError(`signedFetch(url, options): headers['${name}']`, value, 'a string');
    }
    // undici sends the URL's own host whatever we pass, so that is the one to sign.
    if (name.toLowerCase() !== 'host') headers[name.toLowerCase()] = value;
  }
  headers['host'] = target.host;
  const { SignatureV4, Sha256 } = await signerModules();
  const signer = new SignatureV4({
    credentials: options.credentials ?? (await defaultCredentials()),
    region: resolveRegion(options.region, target),
    service: options.service ?? 'lambda',
    sha256: Sha256,
    uriEscapePath: true,
  });
  const signed = await signer.sign(
    {
      method,
      protocol: target.protocol,
      hostname: target.hostname,
      path: target.pathname,
      query: groupQuery(query),
      headers,
      body,
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  return { url: target.href, method, headers: { ...signed.headers }, body };
}

/**
 * `fetch` with a SigV4 signature, as a Lambda Function URL with `AWS_IAM` auth (or the local
 * emulator's API) requires: the request is signed by the AWS SDK's signer, then sent as signed.
 *
 * @example
 * ```ts
 * const response = await signedFetch(`${process.env.FANOUT_API_URL}/jobs`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ task: 'square', items: [1, 2, 3] }),
 *   region: 'us-east-1',
 * });
 * console.log(response.status, await response.json()); // 202 { jobId: '...', total: 3 }
 * ```
 */
export async function signedFetch(url: string | URL, options: SignedFetchOptions = {}): Promise<Response> {
  const signed = await signRequest(url, options);
  const { host: _host, ...headers } = signed.headers;
  return fetch(signed.url, {
    method: signed.method,
    headers,
    ...(signed.body !== undefined ? { body: signed.body } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

function parseTarget(url: string | URL): URL {
  try {
    const target = new URL(url);
    if (target.protocol === 'http:' || target.protocol === 'https:') return target;
  } catch {
    // Refused below, with the value.
  }
  throw new InvalidArgumentError('signedFetch(url)', url, 'an absolute http: or https: URL');
}

function resolveRegion(region: string | undefined, target: URL): string {
  if (region !== undefined) {
    if (typeof region === 'string' && /^[a-z0-9-]+$/.test(region)) return region;
    throw new InvalidArgumentError('signedFetch(url, options): region', region, 'a region name such as us-east-1');
  }
  const fromHost = /^[^.]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(target.hostname)?.[1];
  const resolved = fromHost ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (resolved) return resolved;
  throw new InvalidArgumentError(
    'signedFetch(url, options): region',
    region,
    'a region name such as us-east-1',
    'It is not in the URL (not a *.lambda-url.<region>.on.aws host), and neither AWS_REGION nor AWS_DEFAULT_REGION is set.',
  );
}

let chain: Promise<AwsCredentialIdentityProvider> | undefined;
let signerLoaded:
  | Promise<{
      SignatureV4: typeof import('@smithy/signature-v4').SignatureV4;
      Sha256: typeof import('@smithy/core/checksum').Sha256;
    }>
  | undefined;

/** The SDK's signer, loaded on first use, so that importing this module loads no SDK code. */
function signerModules(): NonNullable<typeof signerLoaded> {
  signerLoaded ??= Promise.all([import('@smithy/signature-v4'), import('@smithy/core/checksum')]).then(
    ([signature, checksum]) => ({
      SignatureV4: signature.SignatureV4,
      Sha256: checksum.Sha256,
    }),
  );
  return signerLoaded;
}

/** The SDK's default chain, loaded once on first use: a caller with explicit credentials never loads it. */
function defaultCredentials(): Promise<AwsCredentialIdentityProvider> {
  chain ??= import('@aws-sdk/credential-provider-node').then(({ defaultProvider }) => defaultProvider());
  return chain;
}

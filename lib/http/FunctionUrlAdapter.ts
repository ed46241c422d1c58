import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2WithRequestContext,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { InvalidArgumentError } from '../errors.js';
import { listenOnPort, portOption } from '../util/listenOnPort.js';
import { parseQueryString } from './queryString.js';
import type { SigV4Verifier } from './SigV4Verifier.js';

/** The IAM caller of a request that passed SigV4 verification, as a Function URL with `AWS_IAM` auth describes it. */
export interface FunctionUrlIamCaller {
  accessKey: string;
  accountId: string;
  callerId: string;
  cognitoIdentity: null;
  principalOrgId: null;
  userArn: string;
  userId: string;
}

/** `requestContext` of a {@link FunctionUrlEvent}: `authorizer.iam` is there when the request was verified. */
export interface FunctionUrlRequestContext extends APIGatewayEventRequestContextV2 {
  authorizer?: { iam: FunctionUrlIamCaller };
}

/** The event a Lambda Function URL sends its function: payload format 2.0. */
export type FunctionUrlEvent = APIGatewayProxyEventV2WithRequestContext<FunctionUrlRequestContext>;

/** What the function answers: a status, headers, a body (base64 when `isBase64Encoded`), cookies. */
export type FunctionUrlResult = APIGatewayProxyStructuredResultV2;

/** A Function URL's function, as the adapter calls it. */
export type FunctionUrlHandler = (event: FunctionUrlEvent) => Promise<FunctionUrlResult | string>;

/** Options of {@link FunctionUrlAdapter.start}. */
export interface FunctionUrlAdapterOptions {
  /** The function behind the URL. */
  readonly handler: FunctionUrlHandler;
  /**
   * Checks each request's SigV4 signature first, as `AWS_IAM` auth does; `null` serves unsigned
   * requests, as auth type `NONE` does.
   */
  readonly verifier: SigV4Verifier | null;
  /** The port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** The largest request body accepted, in bytes. @default 6 MiB, a Function URL's request payload limit */
  readonly maxBodyBytes?: number;
  /** The account id in `requestContext`. @default '000000000000' */
  readonly accountId?: string;
  /** Told about a handler that threw (the caller gets a 500). @default a line on stderr */
  readonly onError?: (error: unknown, event: FunctionUrlEvent) => void;
}

/** A Function URL's request payload limit: 6 MB (MiB, as Lambda counts). */
export const FUNCTION_URL_MAX_BODY_BYTES = 6 * 1024 * 1024;

/** After a 413, the rest of the body is read and dropped (so that the client sees the answer) up to this much, then the connection is cut. */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Serves a Lambda Function URL's handler on loopback, as the deployed URL does: each request
 * becomes a payload-2.0 event (`rawPath`, `rawQueryString`, headers lower-cased and
 * comma-joined, `cookies`, `queryStringParameters`, `requestContext.http`, the verified IAM
 * caller in `requestContext.authorizer.iam`, the body as text or base64), after SigV4
 * verification (403 with a JSON error when it fails) and the 6 MB body limit (413, without
 * holding the excess in memory). A handler that throws gets the caller a 500 with a JSON error,
 * never a stack trace. Listens on 127.0.0.1 only.
 *
 * @example
 * ```ts
 * const adapter = await FunctionUrlAdapter.start({
 *   verifier: new SigV4Verifier({ credentials: [{ accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' }], region: 'us-east-1' }),
 *   handler: async (event) => ({ statusCode: 200, body: JSON.stringify({ path: event.rawPath }) }),
 * });
 * console.log(`export FANOUT_API_URL=${adapter.url}`);
 * await adapter.stop();
 * ```
 */
export class FunctionUrlAdapter {
  private constructor(
    private readonly server: Server,
    /** The base URL, e.g. `http://127.0.0.1:4010`. */
    readonly url: string,
  ) {}

  /** Starts serving; resolves once it listens. */
  static async start(options: FunctionUrlAdapterOptions): Promise<FunctionUrlAdapter> {
    const settings = validate(options);
    const server = createServer((request, response) => void serve(settings, request, response));
    // Refuse an oversized body before the client sends it, when it asks first (curl does).
    server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
      if (declaredLength(request) > settings.maxBodyBytes) {
        // No 100 Continue: the client sends no body, so answer at once.
        response.setHeader('x-amzn-requestid', randomUUID());
        refuseTooLarge(settings, request, response, 'now');
        return;
      }
      response.writeContinue();
      void serve(settings, request, response);
    });
    const address = await listenOnPort(server, settings.port, '127.0.0.1', 'FunctionUrlAdapter.start(options): port');
    return new FunctionUrlAdapter(server, `http://127.0.0.1:${address.port}`);
  }

  /** The address it listens on. */
  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** Stops listening and closes open connections. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Settings {
  handler: FunctionUrlHandler;
  verifier: SigV4Verifier | null;
  port: number;
  maxBodyBytes: number;
  accountId: string;
  onError: (error: unknown, event: FunctionUrlEvent) => void;
}

function validate(options: FunctionUrlAdapterOptions): Settings {
  if (typeof options?.handler !== 'function') {
    throw new InvalidArgumentError(
      'FunctionUrlAdapter.start(options): handler',
      options?.handler,
      'an async function (event) => result',
    );
  }
  if (options.verifier === undefined || (options.verifier !== null && typeof options.verifier.verify !== 'function')) {
    throw new InvalidArgumentError(
      'FunctionUrlAdapter.start(options): verifier',
      options.verifier,
      'a SigV4Verifier, or null to serve unsigned requests',
    );
  }
  const port = portOption('FunctionUrlAdapter.start(options): port', options.port);
  const maxBodyBytes = options.maxBodyBytes ?? FUNCTION_URL_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new InvalidArgumentError(
      'FunctionUrlAdapter.start(options): maxBodyBytes',
      maxBodyBytes,
      'a whole number of bytes, 0 or more',
    );
  }
  const accountId = options.accountId ?? '000000000000';
  if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) {
    throw new InvalidArgumentError('FunctionUrlAdapter.start(options): accountId', accountId, 'a 12-digit account id');
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new InvalidArgumentError(
      'FunctionUrlAdapter.start(options): onError',
      options.onError,
      'a function (error, event) => void',
    );
  }
  return {
    handler: options.handler,
    verifier: options.verifier,
    port,
    maxBodyBytes,
    accountId,
    onError: options.onError ?? logError,
  };
}

async function serve(settings: Settings, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const time = Date.now();
  response.setHeader('x-amzn-requestid', requestId);
  try {
    const declared = declaredLength(request);
    if (declared > settings.maxBodyBytes) {
      refuseTooLarge(settings, request, response, declared - settings.maxBodyBytes > MAX_DISCARDED_BYTES ? 'now' : 'atEnd');
      return;
    }
    const body = await readBody(request, settings.maxBodyBytes);
    if (body === undefined) {
      refuseTooLarge(settings, request, response, 'atEnd');
      return;
    }
    const target = splitTarget(request.url ?? '/');
    if (target === undefined) {
      sendError(response, 400, 'ERR_BAD_REQUEST', `The request target is not a path: '${clip(request.url ?? '')}'.`);
      return;
    }
    const headers = request.headersDistinct;
    let accessKey: string | undefined;
    if (settings.verifier) {
      const verdict = await settings.verifier.verify({
        method: request.method ?? '',
        path: target.path,
        rawQueryString: target.query,
        headers,
        body,
      });
      if (!verdict.ok) {
        sendError(response, 403, verdict.code, verdict.reason);
        return;
      }
      accessKey = verdict.accessKeyId;
    }
    const event = buildEvent(settings, request, target, body, { requestId, time, accessKey });
    let result: FunctionUrlResult | string;
    try {
      result = await settings.handler(event);
    } catch (error) {
      settings.onError(error, event);
      sendError(
        response,
        500,
        'ERR_INTERNAL',
        `Internal Server Error: the handler threw on request ${requestId}; the server's log has the error.`,
      );
      return;
    }
    sendResult(response, result, requestId);
  } catch (error) {
    // The client went away mid-request, or the socket failed: nothing to answer.
    if (!response.headersSent && !response.destroyed) {
      sendError(response, 400, 'ERR_BAD_REQUEST', `The request could not be read: ${(error as Error)?.message ?? String(error)}`);
    } else {
      response.destroy();
    }
  }
}

/** Reads the body up to `limit` bytes; `undefined` (and the request paused) once it goes past. */
function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        cleanup();
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(new Uint8Array(Buffer.concat(chunks, length)));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAborted = () => onError(new Error('the client closed the connection before the body ended'));
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('aborted', onAborted);
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('aborted', onAborted);
  });
}

/**
 * 413, without keeping the excess. A client that is still sending often cannot read an answer
 * until it has sent everything (and sees a reset if the connection closes first), so the rest of
 * the body is read and dropped, and the 413 goes out at its end; past
 * {@link MAX_DISCARDED_BYTES} (or at once, `'now'`, when the client sends no body or declared more
 * than that), the 413 goes out first and the connection is cut after it.
 */
function refuseTooLarge(settings: Settings, request: IncomingMessage, response: ServerResponse, when: 'now' | 'atEnd'): void {
  const answer = () => {
    if (response.headersSent) return;
    response.setHeader('connection', 'close');
    sendError(
      response,
      413,
      'ERR_BODY_TOO_LARGE',
      `The request body is over the limit of ${settings.maxBodyBytes} bytes (a Function URL accepts 6 MB); ` +
        'send large item lists through S3 instead.',
    );
  };
  if (when === 'now') {
    answer();
    request.socket.destroySoon();
    return;
  }
  let discarded = 0;
  request.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARDED_BYTES) {
      request.pause();
      answer();
      response.once('finish', () => request.socket.destroy());
    }
  });
  request.on('end', answer);
  request.on('error', () => undefined);
  request.resume();
}

function declaredLength(request: IncomingMessage): number {
  const header = request.headers['content-length'];
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : 0;
}

/** Splits `request.url` (origin-form, or absolute-form as a proxy sends it) into path and raw query. */
function splitTarget(url: string): { path: string; query: string } | undefined {
  let target = url;
  if (!target.startsWith('/')) {
    try {
      const parsed = new URL(target);
      target = `${parsed.pathname}${parsed.search}`;
    } catch {
      return undefined;
    }
  }
  const mark = target.indexOf('?');
  return mark === -1 ? { path: target, query: '' } : { path: target.slice(0, mark), query: target.slice(mark + 1) };
}

function buildEvent(
  settings: Settings,
  request: IncomingMessage,
  target: { path: string; query: string },
  body: Uint8Array,
  context: { requestId: string; time: number; accessKey: string | undefined },
): FunctionUrlEvent {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (values === undefined) continue;
    if (name === 'cookie') {
      cookies = values.flatMap((value) => value.split(';').map((cookie) => cookie.trim())).filter((cookie) => cookie !== '');
      continue;
    }
    headers[name] = values.join(',');
  }
  const host = headers['host'] ?? '127.0.0.1';
  const event: FunctionUrlEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.path,
    rawQueryString: target.query,
    headers,
    requestContext: {
      accountId: context.accessKey === undefined ? 'anonymous' : settings.accountId,
      apiId: 'fanout-local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: request.method ?? '',
        path: target.path,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: sourceIp(request),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: context.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(context.time),
      timeEpoch: context.time,
    },
    isBase64Encoded: false,
  };
  if (cookies !== undefined && cookies.length > 0) event.cookies = cookies;
  const query = queryParameters(target.query);
  if (query !== undefined) event.queryStringParameters = query;
  if (context.accessKey !== undefined) {
    event.requestContext.authorizer = {
      iam: {
        accessKey: context.accessKey,
        accountId: settings.accountId,
        callerId: context.accessKey,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: `arn:aws:iam::${settings.accountId}:user/${context.accessKey}`,
        userId: context.accessKey,
      },
    };
  }
  if (body.length > 0) {
    const text = isTextual(headers['content-type']) ? utf8(body) : undefined;
    if (text !== undefined) {
      event.body = text;
    } else {
      event.body = Buffer.from(body).toString('base64');
      event.isBase64Encoded = true;
    }
  }
  return event;
}

/** Decoded parameters, a repeated name's values comma-joined, as Lambda does; none for an empty query. */
function queryParameters(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  const pairs =
    parseQueryString(raw) ??
    // Lambda passes on what it cannot decode; so does this.
    raw.split('&').map((piece): [string, string] => {
      const equals = piece.indexOf('=');
      return equals === -1 ? [piece, ''] : [piece.slice(0, equals), piece.slice(equals + 1)];
    });
  const parameters: Record<string, string> = {};
  for (const [name, value] of pairs) {
    parameters[name] = Object.hasOwn(parameters, name) ? `${parameters[name]},${value}` : value;
  }
  return parameters;
}

/** The content types a Function URL passes as text; any other body arrives base64-encoded. */
function isTextual(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') || /^application\/([a-z0-9.+-]+\+)?(json|xml|javascript|yaml|x-www-form-urlencoded)$/.test(type)
  );
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function sourceIp(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** `02/Dec/2026:03:34:09 +0000`, the format of `requestContext.time`. */
function clfTime(epochMs: number): string {
  const date = new Date(epochMs);
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

/** Writes the handler's answer as a Function URL does, a string or an object without `statusCode` as a 200 JSON body. */
function sendResult(response: ServerResponse, result: FunctionUrlResult | string, requestId: string): void {
  if (typeof result === 'string') {
    send(response, 200, { 'content-type': 'application/json' }, Buffer.from(result));
    return;
  }
  if (typeof result !== 'object' || result === null) {
    sendError(response, 500, 'ERR_HANDLER_RESULT', `The handler's result on request ${requestId} is not an object or a string.`);
    return;
  }
  if (result.statusCode === undefined) {
    send(response, 200, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(result)));
    return;
  }
  const { statusCode, headers = {}, body, isBase64Encoded, cookies } = result;
  if (
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599 ||
    typeof headers !== 'object' ||
    headers === null ||
    (body !== undefined && typeof body !== 'string') ||
    (cookies !== undefined && (!Array.isArray(cookies) || cookies.some((cookie) => typeof cookie !== 'string')))
  ) {
    sendError(
      response,
      500,
      'ERR_HANDLER_RESULT',
      `The handler's result on request ${requestId} is malformed: it needs an integer statusCode from 100 to 599, ` +
        'headers as an object, a string body and cookies as strings.',
    );
    return;
  }
  const outgoing: Record<string, string | string[]> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(headers)) outgoing[name.toLowerCase()] = String(value);
  if (cookies !== undefined && cookies.length > 0) outgoing['set-cookie'] = cookies;
  const bytes = body === undefined ? Buffer.alloc(0) : isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body);
  send(response, statusCode, outgoing, bytes);
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  send(response, status, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ error: { code, message } })));
}

function send(response: ServerResponse, status: number, headers: Record<string, string | string[]>, body: Buffer): void {
  try {
    response.writeHead(status, { ...headers, 'content-length': String(body.length) });
    response.end(body);
  } catch {
    // A header value the handler gave is not valid HTTP: answer without its headers.
    if (!response.headersSent) {
      const fallback = Buffer.from(
        JSON.stringify({ error: { code: 'ERR_HANDLER_RESULT', message: "The handler's response headers are not valid HTTP." } }),
      );
      response.writeHead(500, { 'content-type': 'application/json', 'content-length': String(fallback.length) });
      response.end(fallback);
    }
  }
}

function logError(error: unknown, event: FunctionUrlEvent): void {
  console.error(
    `fanout api: ${event.requestContext.http.method} ${event.rawPath} (request ${event.requestContext.requestId}) failed:`,
    error,
  );
}

function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 120 ? `${printable.slice(0, 120)}...` : printable;
}

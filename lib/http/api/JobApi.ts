import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import type { JobItemError, JobService, JobSubmission } from '../../backend/JobService.js';
import { InvalidArgumentError, UnknownTaskError } from '../../errors.js';
import { parseQueryString } from '../queryString.js';
import { ApiRefusal, serviceCall } from './ApiRefusal.js';
import type { ItemUploads } from './ItemUploads.js';
import {
  clip,
  CreateUploadBody,
  describeIssues,
  describeJson,
  fieldsOf,
  JOB_ID_PATTERN,
  ListQuery,
  MAX_RESULTS_LIMIT,
  NoQuery,
  ResultsQuery,
  SubmitJobBody,
} from './jobRequests.js';
import { decodeUtf8, parseJsonText } from './jsonText.js';
import { toJsonValue, type JsonValue } from './jsonValues.js';
import { decodeResultsToken, encodeResultsToken } from './pageTokens.js';

/** What {@link JobApi.handle} answers: a Function URL (payload 2.0) result. */
export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Options of {@link JobApi}. */
export interface JobApiOptions {
  /** Serves `POST /uploads` and `itemsUpload` (items through S3); without it, neither exists. */
  readonly uploads?: ItemUploads | undefined;
  /** The largest request body, in bytes (after base64 decoding). @default 6 MiB, a Function URL's limit */
  readonly maxBodyBytes?: number;
  /**
   * The largest response, in bytes, as Lambda counts it (the body JSON-escaped inside the result):
   * a results page that would be larger is cut short. @default 6 MiB less 64 KiB, under a Function URL's 6 MB
   */
  readonly maxResponseBytes?: number;
  /** Told about an unexpected error (the caller gets a 500 without details). @default a line on stderr */
  readonly onError?: (error: unknown, event: APIGatewayProxyEventV2) => void;
}

type Method = 'GET' | 'POST' | 'DELETE';
type Route = (request: ParsedRequest, id: string) => Promise<ApiResponse>;

interface ParsedRequest {
  event: APIGatewayProxyEventV2;
  method: string;
  query: Array<[string, string]>;
}

const FUNCTION_URL_MAX_BYTES = 6 * 1024 * 1024;
/** Results per page when the query names no `limit`. */
const DEFAULT_RESULTS_LIMIT = 1000;
const RESPONSE_HEADROOM_BYTES = 64 * 1024;
/** Task names listed in an unknown-task refusal, at most. */
const LISTED_TASKS = 50;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * The jobs HTTP API over a {@link JobService}: routes a Lambda Function URL event (payload format
 * 2.0) and answers JSON.
 *
 * - `POST /jobs` `{"task", "items" | "itemsUpload", "chunksize"?, "starmap"?}` → 202 `{"jobId", "total"}`
 * - `GET /jobs?limit=&next=` → 200 `{"jobs": [status...], "next"?}`, newest first
 * - `GET /jobs/{jobId}` → 200 the job's status
 * - `GET /jobs/{jobId}/results?next=&limit=` → 200 `{"from", "results", "errors", "next"?, "waiting"}`
 * - `DELETE /jobs/{jobId}` → 202 `{"jobId", "status"}`
 * - `POST /uploads` → 201 `{"uploadId", "url", "method": "PUT", "expiresAt", "maxBytes"}` (with `uploads`)
 *
 * Every refusal is `{"error": {"code", "message"}}`: 400 for a bad body or query, 404 for an unknown
 * job or route, 405 (with `Allow`) for a wrong method, 413 over the body limit, 415 for a body that
 * is not JSON. An unexpected error is a 500 with a generic message, and goes to `onError`.
 * Results are turned into JSON by {@link toJsonValue}'s rules.
 *
 * @example
 * ```ts
 * const api = new JobApi(backend.jobs(), () => TaskRegistry.current.names());
 * const response = await api.handle(event); // { statusCode: 202, headers: {...}, body: '{"jobId":"...","total":3}' }
 * ```
 */
export class JobApi {
  private readonly tasks: () => readonly string[];
  private readonly uploads: ItemUploads | undefined;
  private readonly maxBodyBytes: number;
  private readonly maxResponseBytes: number;
  private readonly onError: (error: unknown, event: APIGatewayProxyEventV2) => void;
  private readonly routes: Array<{ pattern: RegExp; methods: Partial<Record<Method, Route>> }>;

  constructor(
    private readonly jobs: JobService,
    tasks: readonly string[] | (() => readonly string[]),
    options: JobApiOptions = {},
  ) {
    if (typeof jobs !== 'object' || jobs === null || typeof jobs.submit !== 'function') {
      throw new InvalidArgumentError('new JobApi(jobs)', jobs, 'a JobService');
    }
    if (typeof tasks !== 'function' && !Array.isArray(tasks)) {
      throw new InvalidArgumentError('new JobApi(jobs, tasks)', tasks, 'the registered task names, or a function returning them');
    }
    const names = [...(typeof tasks === 'function' ? [] : tasks)];
    this.tasks = typeof tasks === 'function' ? tasks : () => names;
    this.uploads = options.uploads;
    this.maxBodyBytes = byteOption('maxBodyBytes', options.maxBodyBytes, FUNCTION_URL_MAX_BYTES);
    this.maxResponseBytes = byteOption(
      'maxResponseBytes',
      options.maxResponseBytes,
      FUNCTION_URL_MAX_BYTES - RESPONSE_HEADROOM_BYTES,
    );
    this.onError = options.onError ?? logError;
    this.routes = [
      { pattern: /^\/jobs$/, methods: { GET: (r) => this.list(r), POST: (r) => this.submit(r) } },
      { pattern: /^\/jobs\/([^/]+)$/, methods: { GET: (r, id) => this.status(r, id), DELETE: (r, id) => this.cancel(r, id) } },
      { pattern: /^\/jobs\/([^/]+)\/results$/, methods: { GET: (r, id) => this.results(r, id) } },
    ];
    if (this.uploads) this.routes.push({ pattern: /^\/uploads$/, methods: { POST: (r) => this.createUpload(r) } });
  }

  /** Answers one request; never throws (an unexpected error is a 500). */
  async handle(event: APIGatewayProxyEventV2): Promise<ApiResponse> {
    try {
      return await this.route(event);
    } catch (error) {
      if (error instanceof ApiRefusal) return errorResponse(error);
      try {
        this.onError(error, event);
      } catch {
        // A failing logger must not turn a 500 into a crash.
      }
      const requestId = typeof event?.requestContext?.requestId === 'string' ? event.requestContext.requestId : 'unknown';
      return errorResponse(
        new ApiRefusal(500, 'ERR_INTERNAL', `Internal error on request ${clip(requestId)}; the function's log has the details.`),
      );
    }
  }

  private async route(event: APIGatewayProxyEventV2): Promise<ApiResponse> {
    if (typeof event !== 'object' || event === null || typeof event.requestContext?.http?.method !== 'string') {
      throw new ApiRefusal(400, 'ERR_BAD_REQUEST', 'The event is not a Function URL request (payload format 2.0).');
    }
    const method = event.requestContext.http.method.toUpperCase();
    const rawPath = typeof event.rawPath === 'string' ? event.rawPath : event.requestContext.http.path;
    // One trailing slash is the same route: `/jobs/` is `/jobs`.
    const path = typeof rawPath === 'string' && rawPath.length > 1 ? rawPath.replace(/\/$/, '') : rawPath;
    for (const { pattern, methods } of this.routes) {
      const match = typeof path === 'string' ? pattern.exec(path) : null;
      if (!match) continue;
      const handler = Object.hasOwn(methods, method) ? methods[method as Method] : undefined;
      if (!handler) {
        const allow = Object.keys(methods).join(', ');
        throw new ApiRefusal(
          405,
          'ERR_METHOD_NOT_ALLOWED',
          `${clip(method)} is not allowed on ${clip(path!)}; allowed: ${allow}.`,
          {
            allow,
          },
        );
      }
      const id = match[1] ?? '';
      if (match[1] !== undefined && !JOB_ID_PATTERN.test(id)) {
        throw new ApiRefusal(
          404,
          'ERR_JOB_NOT_FOUND',
          `No job '${clip(id)}': job ids are 26 lower-case letters and digits, as POST /jobs answers them.`,
        );
      }
      return handler({ event, method, query: readQuery(event) }, id);
    }
    const known = `GET /jobs, POST /jobs, GET /jobs/{jobId}, GET /jobs/{jobId}/results, DELETE /jobs/{jobId}${this.uploads ? ', POST /uploads' : ''}`;
    throw new ApiRefusal(404, 'ERR_ROUTE_NOT_FOUND', `No route ${clip(method)} ${clip(String(path))}; the routes are ${known}.`);
  }

  private async submit(request: ParsedRequest): Promise<ApiResponse> {
    parseQuery(request, NoQuery);
    const raw = this.readJsonBody(request.event);
    if (raw === undefined) {
      throw new ApiRefusal(400, 'ERR_INVALID_BODY', 'POST /jobs needs a JSON body: {"task": "<name>", "items": [...]}.');
    }
    const parsed = SubmitJobBody.safeParse(raw, { reportInput: true });
    if (!parsed.success)
      throw new ApiRefusal(400, 'ERR_INVALID_BODY', describeIssues('body', parsed.error, fieldsOf(SubmitJobBody)));
    const body = parsed.data;
    const known = this.tasks();
    if (!known.includes(body.task)) {
      const listed =
        known.length > LISTED_TASKS ? [...known.slice(0, LISTED_TASKS), `... (${known.length - LISTED_TASKS} more)`] : [...known];
      throw new ApiRefusal(
        400,
        'ERR_UNKNOWN_TASK',
        new UnknownTaskError(clip(body.task), listed, "The API knows the tasks its bundle registers (the worker's task modules).")
          .message,
      );
    }
    let items: unknown[];
    let where: string;
    if (body.itemsUpload !== undefined) {
      if (!this.uploads) {
        throw new ApiRefusal(400, 'ERR_INVALID_BODY', 'body.itemsUpload cannot be used: this API has no uploads; send "items".');
      }
      items = await this.uploads.read(body.itemsUpload);
      where = `upload '${body.itemsUpload}' item`;
    } else {
      items = body.items!;
      where = 'body.items';
    }
    if (body.starmap === true) {
      const index = items.findIndex((item) => !Array.isArray(item));
      if (index !== -1) {
        throw new ApiRefusal(
          400,
          'ERR_INVALID_BODY',
          `${where}[${index}] must be an array of arguments (starmap: true); got ${describeJson(items[index])}.`,
        );
      }
    }
    const submission: JobSubmission = { task: body.task, items };
    if (body.chunksize !== undefined) submission.chunksize = body.chunksize;
    if (body.starmap !== undefined) submission.starmap = body.starmap;
    const { jobId, total } = await serviceCall(() => this.jobs.submit(submission));
    if (body.itemsUpload !== undefined) {
      const uploadId = body.itemsUpload;
      // The job holds its items now; a failed delete only leaves the object to the bucket's expiry.
      await this.uploads!.remove(uploadId).catch((error: unknown) => this.onError(error, request.event));
    }
    return json(202, { jobId, total }, { location: `/jobs/${jobId}` });
  }

  private async list(request: ParsedRequest): Promise<ApiResponse> {
    const query = parseQuery(request, ListQuery);
    const page = await serviceCall(() => this.jobs.list({ limit: query.limit, next: query.next }));
    return json(200, page.next === undefined ? { jobs: page.jobs } : { jobs: page.jobs, next: page.next });
  }

  private async status(request: ParsedRequest, jobId: string): Promise<ApiResponse> {
    parseQuery(request, NoQuery);
    return json(200, await serviceCall(() => this.jobs.status(jobId)));
  }

  private async cancel(request: ParsedRequest, jobId: string): Promise<ApiResponse> {
    parseQuery(request, NoQuery);
    const status = await serviceCall(() => this.jobs.cancel(jobId));
    return json(202, { jobId, status: status.status });
  }

  /**
   * A page of at most `limit` results that fits in a response. The service pages by whole
   * chunks; the API sends a prefix of a service page and its `next` token says where in that
   * page to go on (the page is read again for it). A single result too big for any response is
   * `null` with a `ResultTooLargeError` in `errors` (its value stays readable from TypeScript).
   */
  private async results(request: ParsedRequest, jobId: string): Promise<ApiResponse> {
    const query = parseQuery(request, ResultsQuery);
    const cursor = query.next === undefined ? { service: undefined, skip: 0 } : decodeResultsToken(query.next);
    const limit = query.limit ?? DEFAULT_RESULTS_LIMIT;
    const page = await serviceCall(() =>
      this.jobs.results(jobId, { next: cursor.service, maxItems: Math.min(cursor.skip + limit, MAX_RESULTS_LIMIT) }),
    );
    const from = page.from + cursor.skip;
    const available = page.results.slice(cursor.skip, cursor.skip + limit);
    const errorsAt = new Map(
      page.errors.map((error) => [error.index, { index: error.index, name: error.name, message: error.message }]),
    );
    // Lambda counts the result as JSON: the body is a string inside it, escaped once more.
    const longestNext = encodeResultsToken({ service: page.next ?? cursor.service, skip: Number.MAX_SAFE_INTEGER });
    let bytes = escapedBytes(JSON.stringify({ from, results: [], errors: [], waiting: false, next: longestNext })) + 1024;
    const results: JsonValue[] = [];
    const errors: JobItemError[] = [];
    for (const [offset, value] of available.entries()) {
      const index = from + offset;
      let converted = toJsonValue(value);
      let error = errorsAt.get(index);
      let cost = escapedBytes(JSON.stringify(converted)) + (error ? escapedBytes(JSON.stringify(error)) : 0) + 2;
      if (bytes + cost > this.maxResponseBytes && results.length > 0) break;
      if (bytes + cost > this.maxResponseBytes) {
        const size = Buffer.byteLength(JSON.stringify(converted));
        converted = null;
        error = {
          index,
          name: 'ResultTooLargeError',
          message:
            `Result ${index} is ${size} bytes as JSON, more than a response of the API carries (${this.maxResponseBytes} bytes); ` +
            "read it with fanout's TypeScript client (Job.attach(id)).",
        };
        cost = escapedBytes(JSON.stringify(error)) + 6;
      }
      results.push(converted);
      if (error) errors.push(error);
      bytes += cost;
    }
    const sent = cursor.skip + results.length;
    const body: Record<string, unknown> = { from, results, errors, waiting: false };
    if (sent < page.results.length) {
      body.next = encodeResultsToken({ service: cursor.service, skip: sent });
    } else if (page.next !== undefined) {
      body.next = encodeResultsToken({ service: page.next, skip: Math.max(0, sent - page.results.length) });
      body.waiting = page.waiting;
    }
    return json(200, body);
  }

  private async createUpload(request: ParsedRequest): Promise<ApiResponse> {
    parseQuery(request, NoQuery);
    const raw = this.readJsonBody(request.event);
    if (raw !== undefined) {
      const parsed = CreateUploadBody.safeParse(raw, { reportInput: true });
      if (!parsed.success) throw new ApiRefusal(400, 'ERR_INVALID_BODY', describeIssues('body', parsed.error, []));
    }
    return json(201, await this.uploads!.create());
  }

  /** The body as parsed JSON, `undefined` when there is none; checks its size, encoding and content type. */
  private readJsonBody(event: APIGatewayProxyEventV2): unknown {
    const body: unknown = event.body;
    if (body === undefined || body === null || body === '') return undefined;
    if (typeof body !== 'string') throw new ApiRefusal(400, 'ERR_BAD_REQUEST', 'The event body is not a string.');
    const contentType = header(event, 'content-type');
    if (contentType !== undefined && !isJsonContentType(contentType)) {
      throw new ApiRefusal(
        415,
        'ERR_UNSUPPORTED_MEDIA_TYPE',
        `The body must be JSON (content-type: application/json); got content-type '${clip(contentType)}'. ` +
          "With curl, add -H 'content-type: application/json'.",
      );
    }
    let text: string;
    if (event.isBase64Encoded === true) {
      const compact = body.replace(/\s+/g, '');
      if (!BASE64.test(compact))
        throw new ApiRefusal(400, 'ERR_BAD_REQUEST', 'The body is marked base64-encoded and is not base64.');
      if (Math.floor((compact.length * 3) / 4) > this.maxBodyBytes + 2) throw this.tooLarge();
      const bytes = Buffer.from(compact, 'base64');
      if (bytes.length > this.maxBodyBytes) throw this.tooLarge();
      text = decodeUtf8(bytes, 'The request body');
    } else {
      if (Buffer.byteLength(body) > this.maxBodyBytes) throw this.tooLarge();
      text = body;
    }
    return parseJsonText(text, 'The request body');
  }

  private tooLarge(): ApiRefusal {
    return new ApiRefusal(
      413,
      'ERR_BODY_TOO_LARGE',
      `The request body is over the limit of ${this.maxBodyBytes} bytes; ` +
        `send large item lists through S3 (${this.uploads ? 'POST /uploads, then POST /jobs with "itemsUpload"' : 'not enabled here'}).`,
    );
  }
}

/** The bytes of `text` written as a JSON string, less its quotes. */
function escapedBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

/** The query's parameters, percent-decoded, in order; a malformed escape is a 400. */
function readQuery(event: APIGatewayProxyEventV2): Array<[string, string]> {
  const raw = typeof event.rawQueryString === 'string' ? event.rawQueryString : '';
  const pairs = parseQueryString(raw);
  if (pairs === undefined) throw new ApiRefusal(400, 'ERR_BAD_QUERY', 'The query string has a malformed percent-escape.');
  return pairs;
}

function parseQuery<Schema extends z.ZodObject>(request: ParsedRequest, schema: Schema): z.infer<Schema> {
  const values: Record<string, string> = {};
  for (const [name, value] of request.query) {
    if (Object.hasOwn(values, name)) throw new ApiRefusal(400, 'ERR_BAD_QUERY', `The query names '${clip(name)}' twice.`);
    Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
  }
  const parsed = schema.safeParse(values, { reportInput: true });
  if (!parsed.success) throw new ApiRefusal(400, 'ERR_BAD_QUERY', describeIssues('query', parsed.error, fieldsOf(schema)));
  return parsed.data;
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const headers: unknown = event.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

/** `application/json` or `application/<something>+json`, with any parameters; a charset other than UTF-8 is not. */
function isJsonContentType(contentType: string): boolean {
  const [type = '', ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  if (!/^application\/([a-z0-9.+-]+\+)?json$/.test(type)) return false;
  const charset = parameters.find((parameter) => parameter.startsWith('charset='));
  return charset === undefined || /^charset="?utf-8"?$/.test(charset);
}

function json(statusCode: number, value: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(value),
  };
}

function errorResponse(error: ApiRefusal): ApiResponse {
  return json(error.status, { error: { code: error.code, message: error.message } }, { ...error.headers });
}

function byteOption(name: string, value: number | undefined, fallback: number): number {
  const bytes = value ?? fallback;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new InvalidArgumentError(`new JobApi(jobs, tasks, options): ${name}`, value, 'a whole number of bytes, 1 or more');
  }
  return bytes;
}

function logError(error: unknown, event: APIGatewayProxyEventV2): void {
  const http = event?.requestContext?.http;
  console.error(`fanout api: ${http?.method} ${event?.rawPath} (request ${event?.requestContext?.requestId}) failed:`, error);
}

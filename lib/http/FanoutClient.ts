import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from './signedFetch.js';

export type { AwsCredentialIdentity, AwsCredentialIdentityProvider };
import { Deadline } from '../backend/Deadline.js';
import type { JobItemError, JobState, JobStatus, JobSubmission } from '../backend/JobService.js';
import {
  AbortError,
  ApiError,
  ApiUnreachableError,
  InvalidArgumentError,
  JobCancelledError,
  RemoteError,
  TimeoutError,
} from '../errors.js';
import { signRequest } from './signedFetch.js';

/** Options of {@link FanoutClient}. */
export interface FanoutClientOptions {
  /** The API's base URL (the stack's `ApiUrl` output, or what `npx fanout emulator` prints). @default `FANOUT_API_URL` */
  readonly url?: string;
  /**
   * The credentials to sign with, or a provider of them. @default the AWS SDK's default chain
   * (environment, shared config and SSO, container and instance roles), loaded on first use
   */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The region to sign for. @default the Function URL's (`*.lambda-url.<region>.on.aws`), else `AWS_REGION` */
  readonly region?: string;
  /** The `fetch` to send with. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /**
   * A `submit` whose body would be larger than this many bytes sends its items through S3
   * instead (`POST /uploads`, a PUT of the items to the presigned URL it answers, then
   * `POST /jobs` with `itemsUpload`). @default 5 MiB (a Function URL takes 6 MB, event included)
   */
  readonly maxInlineBytes?: number;
}

/** What `POST /uploads` answers: where to PUT the items of a job too big for a request body. */
export interface UploadTicket {
  uploadId: string;
  url: string;
  method: 'PUT';
  expiresAt: string;
  /** The largest upload the API reads, in bytes. */
  maxBytes: number;
}

/** What `POST /jobs` answers: the new job's id and its number of items. */
export interface SubmittedJob {
  jobId: string;
  total: number;
}

/** What `DELETE /jobs/{jobId}` answers. */
export interface CancelledJob {
  jobId: string;
  status: 'cancelled';
}

/** One page of `GET /jobs/{jobId}/results`: results in input order, `null` where the item failed. */
export interface ApiResultsPage {
  results: unknown[];
  /** The failed items of this page, by their position in the job's input. */
  errors: JobItemError[];
  /** Pass to {@link FanoutClient.results} to read on; absent once the job's last result is read. */
  next?: string;
  /** The input position of `results[0]`, when the API says it. */
  from?: number;
  /** The page stopped at a chunk that has not finished (read `next` again later), when the API says it. */
  waiting?: boolean;
}

/** One page of `GET /jobs`: jobs, newest first. */
export interface ApiJobList {
  jobs: JobStatus[];
  next?: string;
}

/** One item of {@link FanoutClient.stream}: its input position and its value, or why it failed. */
export type StreamedResult<T = unknown> = { index: number; value: T } | { index: number; error: RemoteError };

/** Options of {@link FanoutClient.waitForResults} and {@link FanoutClient.stream}. */
export interface JobWaitOptions {
  /** Milliseconds to wait in all; then `TimeoutError` (the job goes on). @default no limit */
  readonly timeout?: number;
  /** Stops waiting with `AbortError` (the job goes on; {@link FanoutClient.cancel} stops it). */
  readonly signal?: AbortSignal;
}

const JOB_ID = /^[0-9a-z]{26}$/;
const STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const FIRST_DELAY_MS = 100;
const DEFAULT_MAX_INLINE_BYTES = 5 * 1024 * 1024;
const MAX_DELAY_MS = 2000;

/**
 * A typed client of fanout's jobs HTTP API, for programs that do not hold the stack's resources
 * (a web backend, a cron job, another account): every request is signed with SigV4 for the
 * `lambda` service, as a Function URL with `AWS_IAM` auth (and `npx fanout emulator`'s API)
 * requires. An error answer becomes an {@link ApiError} (`status`, `apiCode`), no answer an
 * {@link ApiUnreachableError} naming the URL.
 *
 * @example
 * ```ts
 * const client = new FanoutClient({ url: process.env.FANOUT_API_URL });
 * const { jobId } = await client.submit({ task: 'square', items: [1, 2, 3] });
 * console.log(await client.status(jobId)); // { jobId, task: 'square', status: 'running', total: 3, done: 1, ... }
 * console.log(await client.waitForResults(jobId, { timeout: 60_000 })); // [1, 4, 9]
 * for await (const item of client.stream(jobId)) console.log(item); // { index: 0, value: 1 } ...
 * ```
 */
export class FanoutClient {
  /** The API's base URL, without a trailing slash. */
  readonly url: string;
  private readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
  private readonly region: string | undefined;
  private readonly send: typeof fetch;
  private readonly maxInlineBytes: number;

  constructor(options: FanoutClientOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('new FanoutClient(options)', options, 'an object: { url?, credentials?, region?, fetch? }');
    }
    const url = options.url ?? process.env.FANOUT_API_URL;
    this.url = baseUrl(url, options.url === undefined);
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new InvalidArgumentError('new FanoutClient(options): fetch', options.fetch, 'a fetch function');
    }
    if (options.region !== undefined && (typeof options.region !== 'string' || !/^[a-z0-9-]+$/.test(options.region))) {
      throw new InvalidArgumentError('new FanoutClient(options): region', options.region, 'a region name such as us-east-1');
    }
    const credentials = options.credentials;
    if (
      credentials !== undefined &&
      typeof credentials !== 'function' &&
      (typeof credentials !== 'object' ||
        credentials === null ||
        typeof credentials.accessKeyId !== 'string' ||
        typeof credentials.secretAccessKey !== 'string')
    ) {
      throw new InvalidArgumentError(
        'new FanoutClient(options): credentials',
        credentials,
        '{ accessKeyId, secretAccessKey, sessionToken? } or a provider function returning them',
      );
    }
    this.credentials = credentials;
    this.region = options.region;
    this.send = options.fetch ?? ((input, init) => fetch(input, init));
    const maxInlineBytes = options.maxInlineBytes ?? DEFAULT_MAX_INLINE_BYTES;
    if (!Number.isSafeInteger(maxInlineBytes) || maxInlineBytes < 0) {
      throw new InvalidArgumentError(
        'new FanoutClient(options): maxInlineBytes',
        options.maxInlineBytes,
        'a whole number of bytes, 0 or more',
      );
    }
    this.maxInlineBytes = maxInlineBytes;
  }

  /**
   * Starts a job (`POST /jobs`): `task` is a name the API's bundle registers (the worker's task
   * modules), `items` its inputs (argument arrays with `starmap`). Items too big for a request
   * body (over `maxInlineBytes` as JSON) go through S3: an upload ticket (`POST /uploads`), a PUT
   * of the items to its presigned URL, then `POST /jobs` with `itemsUpload`.
   *
   * @example
   * ```ts
   * const { jobId, total } = await client.submit({ task: 'add', items: [[1, 2], [3, 4]], starmap: true, chunksize: 1 });
   * ```
   */
  async submit(request: JobSubmission): Promise<SubmittedJob> {
    if (typeof request !== 'object' || request === null) {
      throw new InvalidArgumentError('client.submit(request)', request, 'an object: { task, items, chunksize?, starmap? }');
    }
    if (typeof request.task !== 'string' || request.task === '') {
      throw new InvalidArgumentError('client.submit(request): task', request.task, 'a registered task name');
    }
    if (!Array.isArray(request.items)) {
      throw new InvalidArgumentError('client.submit(request): items', request.items, 'an array of items');
    }
    const options: Record<string, unknown> = {};
    if (request.chunksize !== undefined) options.chunksize = request.chunksize;
    if (request.starmap !== undefined) options.starmap = request.starmap;
    let items: string;
    try {
      items = JSON.stringify(request.items);
    } catch (error) {
      throw new InvalidArgumentError(
        'client.submit(request): items',
        request.items,
        'JSON values (the API takes JSON)',
        `JSON.stringify failed: ${(error as Error).message}`,
      );
    }
    // The items are serialized once: to measure the body and to send it (inline or uploaded).
    const rest = JSON.stringify(options).slice(1); // '}' or '"chunksize":2}'
    let body = `{"task":${JSON.stringify(request.task)},"items":${items}${rest === '}' ? '}' : `,${rest}`}`;
    if (Buffer.byteLength(body) > this.maxInlineBytes) {
      const uploadId = await this.upload(items);
      body = JSON.stringify({ task: request.task, itemsUpload: uploadId, ...options });
    }
    const answer = await this.request('POST', '/jobs', { json: body });
    const job = answer.body as Partial<SubmittedJob> | null;
    if (typeof job?.jobId !== 'string' || typeof job.total !== 'number') {
      throw malformed('POST', this.url + '/jobs', answer, '{ jobId, total }');
    }
    return { jobId: job.jobId, total: job.total };
  }

  /** Puts a job's items (a JSON array) where `POST /uploads` says; resolves to the upload's id. */
  private async upload(items: string): Promise<string> {
    const answer = await this.request('POST', '/uploads', { json: '{}' });
    const ticket = answer.body as Partial<UploadTicket> | null;
    if (
      typeof ticket?.uploadId !== 'string' ||
      typeof ticket.url !== 'string' ||
      ticket.method !== 'PUT' ||
      typeof ticket.maxBytes !== 'number'
    ) {
      throw malformed('POST', this.url + '/uploads', answer, '{ uploadId, url, method: "PUT", expiresAt, maxBytes }');
    }
    const bytes = Buffer.byteLength(items);
    if (bytes > ticket.maxBytes) {
      throw new InvalidArgumentError(
        'client.submit(request): items',
        `${bytes} bytes of JSON`,
        `at most ${ticket.maxBytes} bytes of JSON (the API's upload limit)`,
        'Split the items into several jobs.',
      );
    }
    // The URL is presigned (its query carries the signature): sent as it is, with no signature of ours.
    const where = ticket.url.replace(/\?.*$/, '?...');
    let response: Response;
    try {
      response = await this.send(ticket.url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: items });
    } catch (error) {
      throw new ApiUnreachableError('PUT', where, error);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new ApiError(`PUT ${where}`, response.status, undefined, `the items' upload was refused: ${clip(text)}`);
    }
    await response.body?.cancel().catch(() => undefined);
    return ticket.uploadId;
  }

  /**
   * Where a job is (`GET /jobs/{jobId}`): its state and counts.
   *
   * @example
   * ```ts
   * const { status, done, total } = await client.status(jobId); // 'running', 40, 100
   * ```
   */
  async status(jobId: string, options: { signal?: AbortSignal | undefined } = {}): Promise<JobStatus> {
    const path = jobPath('client.status(jobId)', jobId);
    const answer = await this.request('GET', path, options);
    return jobStatus(answer.body, () =>
      malformed('GET', this.url + path, answer, 'a job status { jobId, task, status, total, done, failed }'),
    );
  }

  /**
   * One page of a job's results (`GET /jobs/{jobId}/results`), in input order, from the start or
   * from `next`, of at most `limit` results (the API's own limit when not given). While the job runs, a page ends at the first unfinished chunk and still has a
   * `next`: read it again later (or use {@link waitForResults} / {@link stream}, which do).
   *
   * @example
   * ```ts
   * let page = await client.results(jobId);
   * while (page.next) page = await client.results(jobId, { next: page.next });
   * ```
   */
  async results(
    jobId: string,
    options: { next?: string | undefined; limit?: number | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<ApiResultsPage> {
    const base = `${jobPath('client.results(jobId)', jobId)}/results`;
    const query: string[] = [];
    if (options.next !== undefined) {
      if (typeof options.next !== 'string' || options.next === '') {
        throw new InvalidArgumentError('client.results(jobId, options): next', options.next, "a page's `next` token");
      }
      query.push(`next=${encodeURIComponent(options.next)}`);
    }
    if (options.limit !== undefined) {
      if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
        throw new InvalidArgumentError(
          'client.results(jobId, options): limit',
          options.limit,
          'a whole number ≥ 1 (results a page holds at most)',
        );
      }
      query.push(`limit=${options.limit}`);
    }
    const path = query.length === 0 ? base : `${base}?${query.join('&')}`;
    const answer = await this.request('GET', path, options);
    const page = answer.body as Partial<ApiResultsPage> | null;
    if (
      typeof page !== 'object' ||
      page === null ||
      !Array.isArray(page.results) ||
      !Array.isArray(page.errors) ||
      !page.errors.every(isItemError) ||
      (page.next !== undefined && typeof page.next !== 'string') ||
      (page.from !== undefined && !Number.isSafeInteger(page.from))
    ) {
      throw malformed('GET', this.url + path, answer, '{ results: [...], errors: [...], next? }');
    }
    const result: ApiResultsPage = { results: page.results, errors: page.errors };
    if (typeof page.next === 'string') result.next = page.next;
    if (page.from !== undefined) result.from = page.from;
    if (typeof page.waiting === 'boolean') result.waiting = page.waiting;
    return result;
  }

  /**
   * Cancels a job (`DELETE /jobs/{jobId}`): workers skip its chunks that have not started.
   * Cancelling twice is not an error.
   *
   * @example
   * ```ts
   * await client.cancel(jobId); // { jobId, status: 'cancelled' }
   * ```
   */
  async cancel(jobId: string): Promise<CancelledJob> {
    const path = jobPath('client.cancel(jobId)', jobId);
    const answer = await this.request('DELETE', path);
    const cancelled = answer.body as Partial<CancelledJob> | null;
    if (typeof cancelled?.jobId !== 'string' || cancelled.status !== 'cancelled') {
      throw malformed('DELETE', this.url + path, answer, "{ jobId, status: 'cancelled' }");
    }
    return { jobId: cancelled.jobId, status: 'cancelled' };
  }

  /**
   * Jobs, newest first (`GET /jobs`), a page at a time.
   *
   * @example
   * ```ts
   * const { jobs, next } = await client.list({ limit: 10 });
   * ```
   */
  async list(options: { limit?: number; next?: string } = {}): Promise<ApiJobList> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) {
      if (!Number.isSafeInteger(options.limit) || options.limit < 1) {
        throw new InvalidArgumentError('client.list(options): limit', options.limit, 'a whole number ≥ 1');
      }
      query.set('limit', String(options.limit));
    }
    if (options.next !== undefined) {
      if (typeof options.next !== 'string' || options.next === '') {
        throw new InvalidArgumentError('client.list(options): next', options.next, "a page's `next` token");
      }
      query.set('next', options.next);
    }
    const path = query.size > 0 ? `/jobs?${query.toString().replace(/\+/g, '%20')}` : '/jobs';
    const answer = await this.request('GET', path);
    const list = answer.body as Partial<ApiJobList> | null;
    if (
      typeof list !== 'object' ||
      list === null ||
      !Array.isArray(list.jobs) ||
      (list.next !== undefined && typeof list.next !== 'string')
    ) {
      throw malformed('GET', this.url + path, answer, '{ jobs: [...], next? }');
    }
    const jobs = list.jobs.map((job) => jobStatus(job, () => malformed('GET', this.url + path, answer, 'jobs as job statuses')));
    return typeof list.next === 'string' ? { jobs, next: list.next } : { jobs };
  }

  /**
   * A job's results as they arrive, in input order: `{ index, value }`, or `{ index, error }`
   * for an item that failed (a {@link RemoteError} with the task's error name and message).
   * Reads pages while there are finished ones, and waits between them with a bounded back-off
   * (100 ms doubling to 2 s, with jitter) on the job's status. A cancelled job ends the stream
   * with `JobCancelledError`.
   *
   * @example
   * ```ts
   * for await (const item of client.stream(jobId)) {
   *   if ('error' in item) console.error(item.index, item.error.remoteMessage);
   *   else console.log(item.index, item.value);
   * }
   * ```
   */
  async *stream<T = unknown>(jobId: string, options: JobWaitOptions = {}): AsyncGenerator<StreamedResult<T>, void, undefined> {
    jobPath('client.stream(jobId)', jobId);
    const waiting = new Waiting(`client.stream('${jobId}')`, options);
    let task: string | undefined;
    const taskName = async () => (task ??= (await waiting.during((signal) => this.status(jobId, { signal }))).task);
    let next: string | undefined;
    let index = 0;
    let lastDone = -1;
    for (;;) {
      const page = await waiting.during((signal) => this.results(jobId, { next, signal }));
      if (page.from !== undefined && page.from !== index) {
        throw malformed(
          'GET',
          `${this.url}/jobs/${jobId}/results`,
          { status: 200, body: page },
          `a page from item ${index}, as its token said`,
        );
      }
      const errors = new Map(page.errors.map((error) => [error.index, error]));
      for (const value of page.results) {
        const error = errors.get(index);
        if (error) {
          const remote = new RemoteError({ name: error.name, message: error.message, properties: { index } }, await taskName());
          yield { index, error: remote };
        } else {
          yield { index, value: value as T };
        }
        index++;
      }
      if (page.next === undefined) return;
      next = page.next;
      if (page.results.length > 0 && page.waiting !== true) {
        waiting.progressed();
        continue;
      }
      // Nothing new: wait on the status (one small read) until items finish, or the job ends.
      for (;;) {
        await waiting.pause();
        const status = await waiting.during((signal) => this.status(jobId, { signal }));
        task = status.task;
        if (status.status === 'cancelled') throw new JobCancelledError(jobId, status.task);
        if (status.done !== lastDone || status.status === 'succeeded' || status.status === 'failed') {
          lastDone = status.done;
          break;
        }
      }
    }
  }

  /**
   * Waits for every result of a job and resolves to them in input order, as `pool.map` does; the
   * first failed item (in input order) rejects it with a {@link RemoteError} (read every error
   * with {@link stream} or {@link results}). `timeout` rejects with `TimeoutError`, `signal` with
   * `AbortError`; neither stops the job. A cancelled job (or an item it skipped) rejects with
   * `JobCancelledError`.
   *
   * @example
   * ```ts
   * const squares = await client.waitForResults<number>(jobId, { timeout: 120_000 }); // [1, 4, 9]
   * ```
   */
  async waitForResults<T = unknown>(jobId: string, options: JobWaitOptions = {}): Promise<T[]> {
    const values: T[] = [];
    for await (const item of this.stream<T>(jobId, options)) {
      if ('error' in item) {
        // Items a cancelled job skipped: the job's cancellation, as Job.get() reports it.
        if (item.error.remoteName === 'JobCancelledError') throw new JobCancelledError(jobId, item.error.taskName);
        throw item.error;
      }
      values.push(item.value);
    }
    return values;
  }

  /** Sends one signed request; resolves to the parsed JSON body of a 2xx answer. */
  private async request(
    method: string,
    path: string,
    options: { json?: string; signal?: AbortSignal | undefined } = {},
  ): Promise<{ status: number; body: unknown }> {
    const url = this.url + path;
    const signed = await signRequest(url, {
      method,
      headers: { accept: 'application/json', ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(options.json !== undefined ? { body: options.json } : {}),
      ...(this.region !== undefined ? { region: this.region } : {}),
      ...(this.credentials !== undefined ? { credentials: this.credentials } : {}),
    });
    const { host: _host, ...headers } = signed.headers;
    let response: Response;
    let text: string;
    try {
      response = await this.send(signed.url, {
        method,
        headers,
        ...(signed.body !== undefined ? { body: signed.body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw abortError(`${method} ${url}`, options.signal.reason);
      throw new ApiUnreachableError(method, url, error);
    }
    let body: unknown;
    let parsed = true;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (response.status < 200 || response.status > 299) {
      const error = parsed ? (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error : undefined;
      if (typeof error?.code === 'string' && typeof error.message === 'string') {
        throw new ApiError(`${method} ${url}`, response.status, error.code, error.message);
      }
      throw new ApiError(`${method} ${url}`, response.status, undefined, `the answer is not a JSON error: ${clip(text)}`);
    }
    if (!parsed) throw new ApiError(`${method} ${url}`, response.status, undefined, `the answer is not JSON: ${clip(text)}`);
    return { status: response.status, body };
  }
}

/** The waits of one stream: its deadline, its signal, and the back-off between polls. */
class Waiting {
  private readonly deadline: Deadline;
  private delay = FIRST_DELAY_MS;

  constructor(
    private readonly what: string,
    private readonly options: JobWaitOptions,
  ) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError(`${what}: options`, options, 'an object: { timeout?, signal? }');
    }
    const { timeout, signal } = options;
    if (timeout !== undefined && (typeof timeout !== 'number' || Number.isNaN(timeout))) {
      throw new InvalidArgumentError(`${what}: timeout`, timeout, 'a number of milliseconds');
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new InvalidArgumentError(`${what}: signal`, signal, 'an AbortSignal');
    }
    this.deadline = Deadline.after(timeout);
  }

  /**
   * Runs a request, refusing to start one past the deadline or after the signal, and cutting
   * one in flight short at either (a request that hangs cannot outlast the timeout).
   */
  async during<R>(call: (signal: AbortSignal | undefined) => Promise<R>): Promise<R> {
    this.check();
    const signals: AbortSignal[] = [];
    if (this.options.signal) signals.push(this.options.signal);
    if (!this.deadline.unlimited) signals.push(AbortSignal.timeout(Math.max(1, Math.ceil(this.deadline.remaining()))));
    try {
      return await call(signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals));
    } catch (error) {
      this.check();
      throw error;
    }
  }

  /** Results arrived: the next wait starts short again. */
  progressed(): void {
    this.delay = FIRST_DELAY_MS;
  }

  /** Sleeps the current back-off (half of it to all of it, at random), cut short by the deadline; the next one is twice as long, up to 2 s. */
  async pause(): Promise<void> {
    this.check();
    const sleep = Math.min(this.delay / 2 + Math.random() * (this.delay / 2), this.deadline.remaining());
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    const signal = this.options.signal;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, sleep);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
    this.check();
  }

  private check(): void {
    const signal = this.options.signal;
    if (signal?.aborted) throw abortError(this.what, signal.reason);
    if (this.deadline.expired()) {
      throw new TimeoutError(
        `${this.what} timed out after ${this.deadline.timeoutMs} ms; the job goes on (cancel it with client.cancel).`,
        this.deadline.timeoutMs ?? 0,
      );
    }
  }
}

function abortError(what: string, reason: unknown): AbortError {
  return new AbortError(`${what} was aborted; the job goes on (cancel it with client.cancel).`, reason);
}

function baseUrl(url: unknown, fromEnvironment: boolean): string {
  if (url === undefined || url === '') {
    throw new InvalidArgumentError(
      'new FanoutClient(options): url',
      url,
      "the API's URL (http: or https:)",
      'FANOUT_API_URL is not set either: use the stack’s ApiUrl output, or the export `npx fanout emulator` prints.',
    );
  }
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    // Refused below.
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search !== '' || parsed.hash !== '') {
    throw new InvalidArgumentError(
      fromEnvironment ? 'FANOUT_API_URL' : 'new FanoutClient(options): url',
      url,
      'an absolute http: or https: URL without a query, such as https://abc.lambda-url.us-east-1.on.aws',
    );
  }
  return parsed.href.replace(/\/+$/, '');
}

function jobPath(what: string, jobId: unknown): string {
  if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
    throw new InvalidArgumentError(what, jobId, 'a job id: 26 lower-case letters and digits, as submit returns');
  }
  return `/jobs/${jobId}`;
}

function jobStatus(value: unknown, fail: () => ApiError): JobStatus {
  const status = value as Partial<JobStatus> | null;
  if (
    typeof status !== 'object' ||
    status === null ||
    typeof status.jobId !== 'string' ||
    typeof status.task !== 'string' ||
    !STATES.includes(status.status as JobState) ||
    typeof status.total !== 'number' ||
    typeof status.done !== 'number' ||
    typeof status.failed !== 'number'
  ) {
    throw fail();
  }
  return status as JobStatus;
}

function isItemError(value: unknown): value is JobItemError {
  const error = value as Partial<JobItemError> | null;
  return (
    typeof error === 'object' &&
    error !== null &&
    Number.isSafeInteger(error.index) &&
    typeof error.name === 'string' &&
    typeof error.message === 'string'
  );
}

function malformed(method: string, url: string, answer: { status: number; body: unknown }, expected: string): ApiError {
  const body = clip(JSON.stringify(answer.body) ?? '');
  return new ApiError(`${method} ${url}`, answer.status, undefined, `the answer is not ${expected}: ${body}`);
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat === '' ? '(empty)' : flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}

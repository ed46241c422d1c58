import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jobApiFor } from '../../../functions/api/handler.js';
import type { JobService } from '../../../lib/backend/JobService.js';
import type { AwsBackend } from '../../../lib/backends/aws/AwsBackend.js';
import { FanoutError, InvalidArgumentError, JobNotFoundError, UnknownTaskError, ValueError } from '../../../lib/errors.js';
import { FunctionUrlAdapter, type FunctionUrlEvent, type FunctionUrlResult } from '../../../lib/http/FunctionUrlAdapter.js';
import { SigV4Verifier } from '../../../lib/http/SigV4Verifier.js';
import { toJsonValue } from '../../../lib/http/api/jsonValues.js';

/** The real jobs API (the api Lambda's `JobApi` over `backend`'s job service and uploads), signed behind `FunctionUrlAdapter`. */
export function startRealJobsApi(backend: AwsBackend): Promise<FunctionUrlAdapter> {
  const api = jobApiFor(backend);
  return FunctionUrlAdapter.start({
    verifier: new SigV4Verifier({ credentials: [API_CREDENTIALS], region: API_REGION }),
    handler: (event) => api.handle(event),
  });
}

/** The credentials the double's endpoint accepts. */
export const API_CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };
export const API_REGION = 'us-east-1';

/**
 * A stand-in for the jobs API's handler, written for the client's tests until the real one
 * (lib/http/api/) lands: the routes and bodies over a `JobService` (here the test
 * double), with the error answers. Served for real, signed, by `FunctionUrlAdapter`.
 */
export function jobsApiDoubleHandler(
  jobs: JobService,
  uploads?: UploadsDouble,
): (event: FunctionUrlEvent) => Promise<FunctionUrlResult> {
  return async (event) => {
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    const query = event.queryStringParameters ?? {};
    try {
      if (path === '/uploads' && uploads && method === 'POST') {
        const uploadId = randomBytes(13).toString('hex');
        const expiresAt = new Date(Date.now() + 900_000).toISOString();
        return json(201, {
          uploadId,
          url: `${uploads.url}/${uploadId}?X-Amz-Signature=presigned`,
          method: 'PUT',
          expiresAt,
          maxBytes: uploads.maxBytes,
        });
      }
      if (path === '/jobs') {
        if (method === 'POST') {
          let body: { task?: unknown; items?: unknown; itemsUpload?: unknown; chunksize?: unknown; starmap?: unknown };
          try {
            body = JSON.parse(event.body ?? '') as typeof body;
          } catch {
            return error(400, 'ERR_BAD_JSON', 'The body is not JSON.');
          }
          if (uploads && typeof body?.itemsUpload === 'string') {
            const uploaded = uploads.store.get(body.itemsUpload);
            if (uploaded === undefined) return error(400, 'ERR_INVALID_BODY', `No upload '${body.itemsUpload}'.`);
            body.items = JSON.parse(uploaded) as unknown;
          }
          if (typeof body?.task !== 'string' || !Array.isArray(body.items)) {
            return error(400, 'ERR_INVALID_BODY', 'The body must be {"task": "...", "items": [...]}.');
          }
          if (body.chunksize !== undefined && typeof body.chunksize !== 'number') {
            return error(400, 'ERR_INVALID_BODY', 'chunksize must be a number.');
          }
          const submitted = await jobs.submit({
            task: body.task,
            items: body.items,
            ...(body.chunksize !== undefined ? { chunksize: body.chunksize as number } : {}),
            ...(body.starmap !== undefined ? { starmap: body.starmap === true } : {}),
          });
          return json(202, submitted);
        }
        if (method === 'GET') {
          const limit = query.limit === undefined ? undefined : Number(query.limit);
          return json(200, await jobs.list({ limit, next: query.next }));
        }
        return error(405, 'ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on /jobs.`);
      }
      const match = /^\/jobs\/([^/]+)(\/results)?$/.exec(path);
      if (!match) return error(404, 'ERR_NOT_FOUND', `No route ${path}.`);
      const jobId = decodeURIComponent(match[1]!);
      if (match[2]) {
        if (method !== 'GET') return error(405, 'ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}.`);
        const page = await jobs.results(jobId, {
          next: query.next,
          maxItems: query.limit === undefined ? undefined : Number(query.limit),
        });
        // Exactly the body: no `from`, no `waiting`.
        return json(200, { results: page.results, errors: page.errors, ...(page.next ? { next: page.next } : {}) });
      }
      if (method === 'GET') return json(200, await jobs.status(jobId));
      if (method === 'DELETE') {
        await jobs.cancel(jobId);
        return json(202, { jobId, status: 'cancelled' });
      }
      return error(405, 'ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}.`);
    } catch (thrown) {
      if (thrown instanceof JobNotFoundError) return error(404, thrown.code, thrown.message);
      if (thrown instanceof InvalidArgumentError || thrown instanceof UnknownTaskError || thrown instanceof ValueError) {
        return error(400, (thrown as FanoutError).code, (thrown as FanoutError).message);
      }
      throw thrown;
    }
  };
}

/** Serves the double handler over `jobs` behind a signed `FunctionUrlAdapter` on loopback (with `POST /uploads` when given `uploads`). */
export function startJobsApiDouble(jobs: JobService, uploads?: UploadsDouble): Promise<FunctionUrlAdapter> {
  return FunctionUrlAdapter.start({
    verifier: new SigV4Verifier({ credentials: [API_CREDENTIALS], region: API_REGION }),
    handler: jobsApiDoubleHandler(jobs, uploads),
  });
}

/** A stand-in for the S3 bucket of item uploads: takes a PUT to `/<uploadId>?<presigned query>`, keeps the body. */
export interface UploadsDouble {
  url: string;
  maxBytes: number;
  /** The uploaded bodies by upload id. */
  store: Map<string, string>;
  /** Every request it got, as `METHOD /path content-type`. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startUploadsDouble(maxBytes = 1024 * 1024): Promise<UploadsDouble> {
  const store = new Map<string, string>();
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://x');
      requests.push(`${request.method} ${url.pathname} ${request.headers['content-type'] ?? ''}`);
      const ok = request.method === 'PUT' && url.searchParams.get('X-Amz-Signature') === 'presigned';
      if (ok) store.set(url.pathname.slice(1), Buffer.concat(chunks).toString('utf8'));
      response.writeHead(ok ? 200 : 403, { 'content-type': 'application/xml' });
      response.end(ok ? '' : '<Error><Code>AccessDenied</Code></Error>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    maxBytes,
    store,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(statusCode: number, body: unknown): FunctionUrlResult {
  // Results by the real API's JSON rules.
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(toJsonValue(body)) };
}

function error(statusCode: number, code: string, message: string): FunctionUrlResult {
  return json(statusCode, { error: { code, message } });
}

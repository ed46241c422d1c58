import type { JobService } from '../../../lib/backend/JobService.js';
import { FanoutError, InvalidArgumentError, JobNotFoundError, UnknownTaskError, ValueError } from '../../../lib/errors.js';
import { FunctionUrlAdapter, type FunctionUrlEvent, type FunctionUrlResult } from '../../../lib/http/FunctionUrlAdapter.js';
import { SigV4Verifier } from '../../../lib/http/SigV4Verifier.js';

/** The credentials the double's endpoint accepts. */
export const API_CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };
export const API_REGION = 'us-east-1';

/**
 * A stand-in for the jobs API's handler, written for the client's tests until the real one
 * (lib/http/api/) lands: the routes and bodies over a `JobService` (here the test
 * double), with the error answers. Served for real, signed, by `FunctionUrlAdapter`.
 */
export function jobsApiDoubleHandler(jobs: JobService): (event: FunctionUrlEvent) => Promise<FunctionUrlResult> {
  return async (event) => {
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    const query = event.queryStringParameters ?? {};
    try {
      if (path === '/jobs') {
        if (method === 'POST') {
          let body: { task?: unknown; items?: unknown; chunksize?: unknown; starmap?: unknown };
          try {
            body = JSON.parse(event.body ?? '') as typeof body;
          } catch {
            return error(400, 'ERR_BAD_JSON', 'The body is not JSON.');
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
        const page = await jobs.results(jobId, { next: query.next });
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

/** Serves the double handler over `jobs` behind a signed `FunctionUrlAdapter` on loopback. */
export function startJobsApiDouble(jobs: JobService): Promise<FunctionUrlAdapter> {
  return FunctionUrlAdapter.start({
    verifier: new SigV4Verifier({ credentials: [API_CREDENTIALS], region: API_REGION }),
    handler: jobsApiDoubleHandler(jobs),
  });
}

function json(statusCode: number, body: unknown): FunctionUrlResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body, (_key, value: unknown) =>
      typeof value === 'bigint'
        ? value.toString()
        : value instanceof Map
          ? Object.fromEntries(value)
          : value instanceof Set
            ? [...value]
            : value,
    ),
  };
}

function error(statusCode: number, code: string, message: string): FunctionUrlResult {
  return json(statusCode, { error: { code, message } });
}

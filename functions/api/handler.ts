/**
 * The HTTP API Lambda (a Function URL with AWS_IAM auth): jobs over signed HTTP requests, a thin
 * middy wrapper over `JobApi` on the aws backend's `JobService`.
 *
 * The bundle imports the user's task modules before this file (as the worker's does), so the
 * names in the task registry are the tasks the workers run: `POST /jobs` refuses any other.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { JobApi, type ApiResponse } from '../../lib/http/api/JobApi.js';
import { DEFAULT_MAX_UPLOAD_BYTES, S3ItemUploads } from '../../lib/http/api/S3ItemUploads.js';
import { TaskRegistry } from '../../lib/runtime/TaskRegistry.js';

let api: JobApi | undefined;

/**
 * The API over `backend` (the stack's, from the environment, when none is given): its jobs, the
 * uploads in its payload bucket, and the tasks registered in this process.
 *
 * @example
 * ```ts
 * const api = jobApiFor(new AwsBackend({ config }));
 * await api.handle(event);
 * ```
 */
export function jobApiFor(backend: AwsBackend = new AwsBackend()): JobApi {
  const uploads = new S3ItemUploads(
    async () => {
      const session = await backend.session();
      return {
        s3: session.clients.s3,
        bucket: session.config.bucket,
        region: session.config.region,
        endpoint: session.config.endpoints?.s3,
      };
    },
    { maxBytes: maxUploadBytes() },
  );
  return new JobApi(backend.jobs(), () => TaskRegistry.current.names(), { uploads });
}

/**
 * Answers a Function URL request (payload format 2.0): the routes of `JobApi`, their JSON bodies
 * and errors. Never throws: an unexpected error is a 500 with a generic message, and is logged.
 *
 * @example
 * ```ts
 * // The Fanout construct's generated entry:
 * import './tasks.js';
 * export { handler } from './functions/api/handler.js';
 * ```
 */
export const handler = middy<APIGatewayProxyEventV2, ApiResponse>().handler(async (event) => {
  try {
    api ??= jobApiFor();
  } catch (error) {
    // A misconfigured function (a bad FANOUT_API_MAX_UPLOAD_BYTES) still answers JSON.
    console.error('fanout api: the API could not be set up:', error);
    return {
      statusCode: 500,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({
        error: { code: 'ERR_INTERNAL', message: "The API is misconfigured; the function's log has the details." },
      }),
    };
  }
  return api.handle(event);
});

/** `FANOUT_API_MAX_UPLOAD_BYTES`, else the default (64 MiB). */
function maxUploadBytes(): number {
  const raw = process.env.FANOUT_API_MAX_UPLOAD_BYTES;
  if (raw === undefined || raw === '') return DEFAULT_MAX_UPLOAD_BYTES;
  const bytes = Number(raw);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new Error(`FANOUT_API_MAX_UPLOAD_BYTES must be a whole number of bytes, 1 or more; got '${raw}'.`);
  }
  return bytes;
}

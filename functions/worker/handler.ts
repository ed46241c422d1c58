/**
 * The worker Lambda: a thin middy wrapper over the aws backend's worker runtime.
 *
 * The same file (bundled, with the user's task modules imported before it) is also the script
 * of the Lambda's worker threads: in such a thread it starts the worker-thread runtime instead
 * of acting as a handler, and finds tasks by the names the bundle registered when it loaded.
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { isMainThread, workerData } from 'node:worker_threads';
import { configureWorkerRuntime, processSqsEvent, warmUpWorkerRuntime } from '../../lib/backends/aws/workerRuntime.js';
import { startWorkerThread } from '../../lib/runtime/startWorkerThread.js';
import { runningBundled } from '../../lib/runtime/threadScripts.js';

const inWorkerThread = !isMainThread && (workerData as { fanoutWorker?: unknown } | undefined)?.fanoutWorker === true;
if (inWorkerThread) startWorkerThread();

// Run from the TypeScript sources (the local worker fleet) or from the compiled package, threads
// use the local backend's script and import task modules by path; bundled (the Lambda asset),
// this file is its threads' script.
if (runningBundled() && !inWorkerThread) {
  configureWorkerRuntime({ workerScript: new URL(import.meta.url), tasksByName: true });
  // Start the threads during the Lambda's init phase; a failure shows again on the first invocation.
  warmUpWorkerRuntime().catch(() => {});
}

/**
 * Processes an SQS batch of fanout chunks and reports the records to redeliver. The batch is
 * planned against the invocation's remaining time, and stops itself before the deadline with a
 * reserve to hand unfinished chunks back; middy's own early timeout (which would reject the whole
 * batch 5 ms before the deadline, chunks still running) is therefore off.
 *
 * @example
 * ```ts
 * // The Fanout construct's generated entry:
 * import './tasks.js';
 * export { handler } from './functions/worker/handler.js';
 * ```
 */
export const handler = middy<SQSEvent, SQSBatchResponse>({ timeoutEarlyInMillis: 0 }).handler((event, context) =>
  processSqsEvent(event, context),
);

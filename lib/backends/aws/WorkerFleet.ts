import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
} from '@aws-sdk/client-sqs';
import type { Context as LambdaContext, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../../errors.js';
import { TaskRegistry } from '../../runtime/TaskRegistry.js';
import { AwsClients } from './AwsClients.js';
import { resolveAwsConfig, type AwsConfig } from './AwsConfig.js';
import type { ChunkProcessorStats } from './ChunkProcessor.js';
import { RequestCounter, type RequestCounts } from './RequestCounter.js';
import { ChunkProcessor } from './ChunkProcessor.js';
import { FLEET_PROCESSOR, processSqsEvent } from './workerRuntime.js';
import { WORKER_FLEET_LIMITS } from './workerFleetLimits.js';
import { errorText } from '../../util/errorText.js';
import { sleep } from '../../util/sleep.js';
import { toSqsRecord } from './sqsRecord.js';

/** The Fanout construct's default `workerTimeout` (5 minutes). */
const DEFAULT_TIMEOUT_SECONDS = 300;

/** A Lambda-style handler of SQS batches (the worker Lambda's `handler`). */
export type SqsBatchHandler = (event: SQSEvent, context: LambdaContext) => Promise<SQSBatchResponse | void>;

/** Options of {@link runWorkerFleet}. */
export interface WorkerFleetOptions {
  /** Where the queue, table and bucket are. @default from the environment ({@link resolveAwsConfig}) */
  config?: AwsConfig;
  /** The handler to invoke with each batch. @default the worker runtime (what the Lambda handler wraps) */
  handler?: SqsBatchHandler;
  /** Worker threads running tasks. @default the machine's available parallelism */
  threads?: number;
  /** Batches processed at once, as concurrent Lambda invocations. @default 2 × threads */
  concurrency?: number;
  /** Messages per batch, 1–10. @default 10 */
  batchSize?: number;
  /** Long-poll wait, 0–20 s. @default 20 */
  waitTimeSeconds?: number;
  /** Visibility timeout of received messages, in seconds. @default the queue's */
  visibilityTimeout?: number;
  /**
   * The function timeout each invocation's context counts down from, in seconds, 1–900: the
   * deadline the worker plans its chunks against, as in the worker Lambda. Not the visibility
   * timeout: the worker keeps long chunks hidden with heartbeats, and a deadline as short as a
   * short visibility would stop and hand back chunks for nothing. The stack's default function
   * timeout, so that a chunk too long for the deployed worker is too long here as well.
   * @default 300
   */
  timeout?: number;
  /** Task modules (paths or file: URLs) to import before polling, so that a bad one fails now. */
  tasks?: string[];
  /** Stops the fleet: polls end at once, batches being processed finish first. */
  signal?: AbortSignal;
  /** Also stop on SIGINT and SIGTERM (the `fanout worker` command). @default false */
  handleSignals?: boolean;
  /** Counts the fleet's AWS requests (polling and processing). @default a counter of its own */
  counter?: RequestCounter;
  /** Called once the threads are up and polling starts, with a way to read the work done so far. */
  onReady?: (fleet: { stats(): ChunkProcessorStats }) => void;
  /** Where progress lines go. @default nowhere */
  log?: (line: string) => void;
  /**
   * The worker's notes and a line per chunk as JSON (Powertools Logger, on stdout), as the
   * worker Lambda writes them. @default true when `FANOUT_LOG_FORMAT` is `json`
   */
  jsonLogs?: boolean;
  /**
   * With `jsonLogs`, also EMF metrics on stdout, one blob per invocation (off by default: no
   * CloudWatch agent reads a local fleet's stdout). @default true when `FANOUT_METRICS` is `emf`
   */
  metrics?: boolean;
}

/** What a fleet did, returned when it stops. */
export interface WorkerFleetSummary {
  /** Handler invocations (non-empty batches). */
  invocations: number;
  /** Milliseconds spent in the handler, added up over invocations (Lambda's billed duration). */
  handlerMs: number;
  messagesReceived: number;
  messagesDeleted: number;
  /** Records the handler reported as failed (left for redelivery). */
  messagesFailed: number;
  processor: ChunkProcessorStats | undefined;
  requests: RequestCounts;
}

/**
 * Runs workers on this machine that poll the task queue the way Lambda's SQS event source
 * does — long polls, batches, the queue's visibility timeout, partial batch failures (only
 * successes are deleted), several batches at once — and invoke the very same handler as the
 * worker Lambda. Resolves when stopped by `signal` (or SIGINT/SIGTERM with `handleSignals`).
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * const fleet = runWorkerFleet({ threads: 2, signal: stop.signal });
 * // ... run pools with FANOUT_BACKEND=aws ...
 * stop.abort();
 * console.log(await fleet);
 * ```
 */
export async function runWorkerFleet(options: WorkerFleetOptions = {}): Promise<WorkerFleetSummary> {
  const limits = WORKER_FLEET_LIMITS;
  const threads = checkCount('runWorkerFleet(options): threads', options.threads, limits.threads) ?? availableParallelism();
  const concurrency = checkCount('runWorkerFleet(options): concurrency', options.concurrency, limits.concurrency) ?? threads * 2;
  const batchSize = checkCount('runWorkerFleet(options): batchSize', options.batchSize, limits.batchSize) ?? 10;
  const waitTimeSeconds =
    checkCount('runWorkerFleet(options): waitTimeSeconds', options.waitTimeSeconds, limits.waitTimeSeconds) ?? 20;
  const visibilityTimeout = checkCount(
    'runWorkerFleet(options): visibilityTimeout',
    options.visibilityTimeout,
    limits.visibilityTimeout,
  );
  const timeoutSeconds =
    checkCount('runWorkerFleet(options): timeout', options.timeout, limits.timeout) ?? DEFAULT_TIMEOUT_SECONDS;
  const config = options.config ?? (await resolveAwsConfig());
  const counter = options.counter ?? new RequestCounter();
  const clients = new AwsClients(config, counter);
  const log = options.log ?? (() => {});
  // Stopping lets each long poll end by itself: an aborted receive can still take messages on
  // the server side and hide them for the visibility timeout. A second signal aborts at once.
  const stop = new AbortController();
  const hardStop = new AbortController();
  const onStop = () => {
    if (stop.signal.aborted) hardStop.abort();
    else {
      stop.abort();
      log(`fanout worker: stopping after the current polls (up to ${waitTimeSeconds} s)`);
    }
  };
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onStop, { once: true });
  if (options.handleSignals) {
    process.on('SIGINT', onStop);
    process.on('SIGTERM', onStop);
  }
  // The fleet's own processor, handed to the handler in each invocation's context.
  const jsonLogs = options.jsonLogs ?? process.env.FANOUT_LOG_FORMAT === 'json';
  const metrics = options.metrics ?? process.env.FANOUT_METRICS === 'emf';
  const telemetry = jsonLogs ? new (await import('./WorkerTelemetry.js')).WorkerTelemetry({ metrics }) : undefined;
  const processor = new ChunkProcessor({
    clients,
    threads,
    taskModules: (options.tasks ?? []).map((module) => String(toModuleUrl(module))),
    ...(telemetry ? { telemetry } : {}),
  });
  const handler: SqsBatchHandler = options.handler ?? ((event, context) => processSqsEvent(event, context));
  const summary: Omit<WorkerFleetSummary, 'processor' | 'requests'> = {
    invocations: 0,
    handlerMs: 0,
    messagesReceived: 0,
    messagesDeleted: 0,
    messagesFailed: 0,
  };
  try {
    for (const module of options.tasks ?? []) await TaskRegistry.current.load(toModuleUrl(module));
    const attributes = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: config.queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = attributes.Attributes?.QueueArn ?? config.queueUrl;
    const timeoutMs = 1000 * timeoutSeconds;
    // Threads start before the first poll: the first chunk does not wait for them.
    await processor.warmUp();
    log(`fanout worker: polling ${config.queueUrl} with ${concurrency} pollers and ${threads} threads`);

    const poll = async (): Promise<void> => {
      while (!stop.signal.aborted) {
        let received: ReceiveMessageCommandOutput;
        try {
          received = await clients.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: config.queueUrl,
              MaxNumberOfMessages: batchSize,
              WaitTimeSeconds: waitTimeSeconds,
              ...(visibilityTimeout !== undefined ? { VisibilityTimeout: visibilityTimeout } : {}),
              MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'ApproximateFirstReceiveTimestamp'],
              MessageAttributeNames: ['All'],
            }),
            { abortSignal: hardStop.signal },
          );
        } catch (error) {
          if (stop.signal.aborted) return;
          log(`fanout worker: receive failed (${errorText(error)}); retrying in 1 s`);
          await sleep(1000, stop.signal);
          continue;
        }
        const messages = received.Messages ?? [];
        if (messages.length === 0) continue;
        if (stop.signal.aborted) {
          // Received while stopping: hand them back at once rather than after the visibility timeout.
          await clients.sqs
            .send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: config.queueUrl,
                Entries: messages.map((message, index) => ({
                  Id: String(index),
                  ReceiptHandle: message.ReceiptHandle!,
                  VisibilityTimeout: 0,
                })),
              }),
            )
            .catch(() => {});
          return;
        }
        summary.messagesReceived += messages.length;
        const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, queueArn, config.region)) };
        const started = performance.now();
        let failedIds: Set<string>;
        try {
          const response = await handler(event, lambdaContext(timeoutMs, started, processor));
          failedIds = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
        } catch (error) {
          // As with Lambda: a failed invocation leaves the whole batch to be redelivered.
          log(`fanout worker: the handler failed (${errorText(error)}); the batch will be redelivered`);
          failedIds = new Set(messages.map((message) => message.MessageId ?? ''));
        }
        summary.invocations++;
        summary.handlerMs += performance.now() - started;
        summary.messagesFailed += failedIds.size;
        const done = messages.filter((message) => !failedIds.has(message.MessageId ?? ''));
        if (done.length === 0) continue;
        try {
          const deleted = await clients.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: config.queueUrl,
              Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
            }),
          );
          summary.messagesDeleted += deleted.Successful?.length ?? 0;
        } catch (error) {
          // Undeleted messages come back after their visibility timeout; their results are recorded once.
          log(`fanout worker: delete failed (${errorText(error)}); those messages will be redelivered and skipped`);
        }
      }
    };
    const polling = Promise.all(Array.from({ length: concurrency }, poll));
    options.onReady?.({ stats: () => processor.stats() });
    await polling;
    return { ...summary, processor: processor.stats(), requests: counter.snapshot() };
  } finally {
    options.signal?.removeEventListener('abort', onStop);
    if (options.handleSignals) {
      process.off('SIGINT', onStop);
      process.off('SIGTERM', onStop);
    }
    await processor.close();
    clients.destroy();
    log('fanout worker: stopped');
  }
}

function lambdaContext(timeoutMs: number, started: number, processor: ChunkProcessor): LambdaContext {
  const context: LambdaContext & { [FLEET_PROCESSOR]: ChunkProcessor } = {
    [FLEET_PROCESSOR]: processor,
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'fanout-worker-fleet',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:fanout-worker-fleet',
    memoryLimitInMB: process.env.FANOUT_WORKER_MEMORY_MB ?? '0',
    awsRequestId: randomUUID(),
    logGroupName: 'fanout-worker-fleet',
    logStreamName: String(process.pid),
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (performance.now() - started)),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  return context;
}

function checkCount(option: string, value: number | undefined, [min, max]: readonly [number, number]): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(option, value, `a whole number from ${min} to ${max}`);
  }
  return value;
}

function toModuleUrl(module: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[A-Za-z]:[\\/]/.test(module)) return module;
  return new URL(module, `file://${process.cwd()}/`).href;
}

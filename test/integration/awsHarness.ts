/**
 * Helpers for the aws backend's integration tests: resources of their own per test file in the
 * emulators started by the global setup, pools on them, and in-process worker fleets.
 */
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { handler } from '../../functions/worker/handler.js';
import { Context } from '../../lib/api/Context.js';
import { AwsBackend } from '../../lib/backends/aws/AwsBackend.js';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { provisionResources, type ProvisionOptions } from '../../lib/backends/aws/emulator.js';
import { RequestCounter } from '../../lib/backends/aws/RequestCounter.js';
import type { ChunkProcessorStats } from '../../lib/backends/aws/ChunkProcessor.js';
import { runWorkerFleet, type WorkerFleetOptions, type WorkerFleetSummary } from '../../lib/backends/aws/WorkerFleet.js';

// The SDK's notice about Node versions says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Creates a fresh queue, dead-letter queue, table and bucket in the emulators. */
export async function provisionForTest(prefix: string, options: Omit<ProvisionOptions, 'name'> = {}): Promise<AwsConfig> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  return provisionResources(inject('awsEmulators'), { ...options, name });
}

/** An aws context over `config`, and the counter of its requests. */
export function awsContext(config: AwsConfig): { context: Context; counter: RequestCounter } {
  const counter = new RequestCounter();
  return { context: new Context(new AwsBackend({ config, counter })), counter };
}

/** A running in-process worker fleet (the real worker handler); `stop()` resolves to its summary. */
export interface TestFleet {
  /** Resolves once the fleet's threads are up and it polls (rejects if it failed to start). */
  ready: Promise<void>;
  /** What the fleet's processor has done so far (after `ready`). */
  processorStats(): ChunkProcessorStats;
  stop(): Promise<WorkerFleetSummary>;
}

/** Starts a worker fleet in this process, with a short long-poll so that it stops quickly. */
export function startFleet(config: AwsConfig, options: Omit<WorkerFleetOptions, 'config' | 'signal'> = {}): TestFleet {
  const controller = new AbortController();
  let live: { stats(): ChunkProcessorStats } | undefined;
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const onReady = (fleet: { stats(): ChunkProcessorStats }) => {
    live = fleet;
    started();
  };
  const running = runWorkerFleet({
    handler,
    threads: 2,
    waitTimeSeconds: 2,
    ...options,
    config,
    signal: controller.signal,
    onReady,
  });
  // Surface a fleet that fails to start (rather than an unhandled rejection).
  running.catch(() => {});
  return {
    ready: Promise.race([ready, running.then(() => {})]),
    processorStats() {
      if (!live) throw new Error('the fleet is not ready yet');
      return live.stats();
    },
    stop() {
      controller.abort();
      return running;
    },
  };
}

/** The chunk records of the table: `run|chunk` → count (1 each when nothing was duplicated). */
export async function chunkRecords(config: AwsConfig): Promise<Map<string, { count: number; status: string }>> {
  const clients = new AwsClients(config);
  try {
    const records = new Map<string, { count: number; status: string }>();
    let next: Record<string, AttributeValue> | undefined;
    do {
      const page = await clients.dynamodb.send(new ScanCommand({ TableName: config.table, ExclusiveStartKey: next }));
      for (const item of page.Items ?? []) {
        if (!item.sk?.S?.startsWith('c#')) continue;
        const key = `${item.pk?.S}|${item.sk.S}`;
        const entry = records.get(key);
        if (entry) entry.count++;
        else records.set(key, { count: 1, status: item.st?.S ?? '' });
      }
      next = page.LastEvaluatedKey;
    } while (next);
    return records;
  } finally {
    clients.destroy();
  }
}

/** Keys of the objects in the payload bucket. */
export async function bucketKeys(config: AwsConfig): Promise<string[]> {
  const clients = new AwsClients(config);
  try {
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: config.bucket }));
    return (listed.Contents ?? []).map((object) => object.Key ?? '');
  } finally {
    clients.destroy();
  }
}

/** Messages in a queue (visible + in flight), as SQS approximates them. */
export async function queueDepth(config: AwsConfig, url: string): Promise<number> {
  const clients = new AwsClients(config);
  try {
    const attributes = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  } finally {
    clients.destroy();
  }
}

/** Waits until `condition` holds, checking every 50 ms, or throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { InvalidArgumentError, RemoteError, UnknownTaskError, task } from 'fanout';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import type { InvocationRecord } from '../../lib/backends/aws/lambda/invocation.js';
import type { ProvisionedStack } from '../../lib/backends/aws/StackProvisioner.js';
import { readStackTemplate, type CloudFormationTemplate, type StackTemplate } from '../../lib/backends/aws/stackTemplate.js';
import { assetBlockHandler, assetMisuseFanout, assetValidate } from '../fixtures/asset/assetTasks.js';
import { square } from '../fixtures/tasks.js';
import { processAlive, provisionAsset, startRunner, synthesizedTemplate, type TestRunner } from './assetHarness.js';
import { awsContext, chunkRecords, queueDepth } from './awsHarness.js';

/** A task the worker bundle does not have: defined here, in the test, only. */
const notBundled = task('asset.notBundled', (x: number) => x);

describe('the synthesized stack, provisioned from its template', () => {
  let stack: ProvisionedStack;

  beforeAll(async () => {
    stack = await provisionAsset('asset');
  });

  it('has the queues, table and buckets the template declares, with their settings', async () => {
    const clients = new AwsClients(stack.config);
    try {
      const attributes = async (url: string) =>
        (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes!;
      const tasks = await attributes(stack.config.queueUrl);
      const deadLetters = await attributes(stack.config.deadLetterQueueUrl!);
      expect(tasks).toMatchObject({ VisibilityTimeout: '600', MaximumMessageSize: '1048576' });
      expect(JSON.parse(tasks.RedrivePolicy!).deadLetterTargetArn).toBe(deadLetters.QueueArn);
      expect(Number(JSON.parse(tasks.RedrivePolicy!).maxReceiveCount)).toBe(5);
      expect(deadLetters).toMatchObject({ MessageRetentionPeriod: '1209600', MaximumMessageSize: '1048576' });
      const table = await clients.dynamodb.send(new DescribeTableCommand({ TableName: stack.config.table }));
      expect(table.Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      const buckets = stack.resources.filter((resource) => resource.type === 'AWS::S3::Bucket');
      expect(buckets.map((bucket) => bucket.logicalId).sort()).toEqual([
        expect.stringMatching(/^FanoutAccessLogBucket/),
        expect.stringMatching(/^FanoutPayloadBucket/),
      ]);
      for (const bucket of buckets) await clients.s3.send(new HeadBucketCommand({ Bucket: bucket.physicalId }));
    } finally {
      clients.destroy();
    }
    // dynalite has no UpdateTimeToLive: the TTL attribute is recorded as not applied, not dropped silently.
    const table = stack.resources.find((resource) => resource.type === 'AWS::DynamoDB::Table')!;
    expect(table.notApplied).toContainEqual(
      expect.stringMatching(/^TimeToLiveSpecification \(expiresAt\): the emulator refused UpdateTimeToLive/),
    );
  });

  it('describes the worker function and its event source mapping as deployed', () => {
    const { function: worker, eventSource } = stack.worker;
    expect(worker).toMatchObject({ handler: 'index.handler', runtime: 'nodejs22.x', memorySize: 1769, timeoutSeconds: 300 });
    expect(existsSync(join(worker.codeDirectory!, 'index.mjs'))).toBe(true);
    expect(worker.environment).toMatchObject({
      FANOUT_QUEUE_URL: stack.config.queueUrl,
      FANOUT_TABLE: stack.config.table,
      FANOUT_BUCKET: stack.config.bucket,
      FANOUT_WORKER_MEMORY_MB: '1769',
    });
    expect(eventSource).toMatchObject({
      batchSize: 10,
      maximumConcurrency: 100,
      maximumBatchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      queueUrl: stack.config.queueUrl,
    });
    expect(stack.outputs).toMatchObject({
      QueueUrl: stack.config.queueUrl,
      TableName: stack.config.table,
      BucketName: stack.config.bucket,
    });
  });

  it('describes the API function apart from the worker: marked FANOUT_FUNCTION=api, behind its AWS_IAM Function URL', () => {
    const api = stack.api!;
    expect(api.authType).toBe('AWS_IAM');
    expect(api.urlLogicalId).toMatch(/^FanoutApiFunctionUrl/);
    expect(api.function).toMatchObject({ handler: 'index.handler', runtime: 'nodejs22.x', memorySize: 1024, timeoutSeconds: 60 });
    expect(api.function.logicalId).not.toBe(stack.worker.function.logicalId);
    expect(api.function.codeDirectory).not.toBe(stack.worker.function.codeDirectory);
    expect(existsSync(join(api.function.codeDirectory!, 'index.mjs'))).toBe(true);
    expect(api.function.environment).toMatchObject({
      FANOUT_FUNCTION: 'api',
      FANOUT_QUEUE_URL: stack.config.queueUrl,
      FANOUT_TABLE: stack.config.table,
      FANOUT_BUCKET: stack.config.bucket,
    });
    // The URL is described with its function, not listed among the resources left out.
    expect(stack.skipped.map((resource) => resource.type)).not.toContain('AWS::Lambda::Url');
    // Its output refers to the Function URL, which only the local API gives an address.
    expect(stack.outputs.ApiUrl).toBeUndefined();
  });
});

describe('telling the worker from the API in a template', () => {
  /** The asset template, changed by `edit`, as a template object (no file). */
  const edited = async (edit: (template: CloudFormationTemplate) => CloudFormationTemplate): Promise<StackTemplate> => {
    const stack = readStackTemplate(await synthesizedTemplate());
    return { ...stack, template: edit(structuredClone(stack.template)) };
  };
  const apiIds = (template: CloudFormationTemplate) =>
    Object.entries(template.Resources)
      .filter(
        ([, resource]) =>
          (resource.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables?.FANOUT_FUNCTION === 'api',
      )
      .map(([logicalId]) => logicalId);

  it('finds the worker whatever the order of the functions (the API, first, names the task queue too)', async () => {
    const reordered = await edited((template) => {
      const [apiId] = apiIds(template);
      const { [apiId!]: api, ...rest } = template.Resources;
      return { ...template, Resources: { [apiId!]: api!, ...rest } };
    });
    const stack = await provisionAsset('asset-order', { template: reordered });
    expect(stack.worker.function.environment.FANOUT_FUNCTION).toBeUndefined();
    expect(stack.api?.function.environment.FANOUT_FUNCTION).toBe('api');
  });

  it('a template without the API (api: false): no API, the worker as before', async () => {
    const withoutApi = await edited((template) => {
      const drop = new Set(apiIds(template));
      for (const [logicalId, resource] of Object.entries(template.Resources)) {
        if (resource.Type === 'AWS::Lambda::Url') drop.add(logicalId);
      }
      const { ApiUrl: _url, ...outputs } = template.Outputs ?? {};
      return {
        ...template,
        Outputs: outputs,
        Resources: Object.fromEntries(Object.entries(template.Resources).filter(([logicalId]) => !drop.has(logicalId))),
      };
    });
    const stack = await provisionAsset('asset-noapi', { template: withoutApi });
    expect(stack.api).toBeUndefined();
    expect(stack.worker.function.memorySize).toBe(1769);
  });

  it('refuses an API function without its Function URL, saying which', async () => {
    const noUrl = await edited((template) => ({
      ...template,
      Resources: Object.fromEntries(
        Object.entries(template.Resources).filter(([, resource]) => resource.Type !== 'AWS::Lambda::Url'),
      ),
    }));
    await expect(provisionAsset('asset-nourl', { template: noUrl })).rejects.toThrow(
      /fanout's API function 'FanoutApi\w+' has 0 Function URLs \(AWS::Lambda::Url\)/,
    );
  });
});

describe('the deployed worker asset under the Lambda runner', () => {
  let stack: ProvisionedStack;
  let lambda: TestRunner;

  beforeAll(async () => {
    stack = await provisionAsset('asset-run');
    lambda = await startRunner(stack);
  });

  afterAll(async () => {
    await lambda?.stop();
  });

  it('starts cold and runs its first chunk (measured, not asserted)', async () => {
    const { context } = awsContext(stack.config);
    await using pool = new context.Pool(2);
    const submitted = performance.now();
    expect(await pool.apply(square, [12])).toBe(144);
    const callerMs = performance.now() - submitted;
    const cold = lambda.records.find((record) => record.coldStart)!;
    expect(cold.outcome.status).toBe('success');
    expect(cold.importDurationMs).toBeLessThan(cold.initDurationMs!);
    console.log(
      `asset cold start: init ${cold.initDurationMs!.toFixed(0)} ms (import of index.mjs ${cold.importDurationMs!.toFixed(0)} ms), ` +
        `first invocation ${cold.durationMs.toFixed(0)} ms, first result at the caller ${callerMs.toFixed(0)} ms after submitting`,
    );
  });

  it('returns a task’s own error class name and fanout’s error names unchanged', async () => {
    const { context } = awsContext(stack.config);
    await using pool = new context.Pool(2);
    const own = (await pool.apply(assetValidate, [1]).catch((e: unknown) => e)) as RemoteError;
    expect(own).toBeInstanceOf(RemoteError);
    expect({ name: own.remoteName, message: own.remoteMessage, code: own.remoteProperties.code }).toEqual({
      name: 'ValidationError',
      message: 'bad 1',
      code: 'E_ASSET_VALIDATION',
    });
    const fanouts = (await pool.apply(assetMisuseFanout, []).catch((e: unknown) => e)) as RemoteError;
    expect(fanouts).toBeInstanceOf(RemoteError);
    expect(fanouts.remoteName).toBe(InvalidArgumentError.name);
    expect(fanouts.remoteMessage).toMatch(/^task\(name, fn\): name must be/);
    const unknown = await pool.apply(notBundled, [1]).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownTaskError);
    expect((unknown as UnknownTaskError).knownTasks).toContain('asset.validate');
  });
});

describe('the deployed worker asset at its hard timeout', () => {
  let stack: ProvisionedStack;
  let lambda: TestRunner;
  /** The task queue's visible and in-flight messages, read as soon as an invocation timed out. */
  let queueAtKill: Promise<{ visible: number; inFlight: number }> | undefined;

  beforeAll(async () => {
    // As a Fanout construct with workerTimeout 4 s and a 6 s visibility timeout would synthesize it
    // (4 s: a cold environment's first chunk must fit in it on a busy machine, or it is killed too).
    stack = await provisionAsset('asset-kill', { overrides: { functionTimeoutSeconds: 4, visibilityTimeoutSeconds: 6 } });
    const onInvocation = (record: InvocationRecord) => {
      if (record.outcome.status === 'timeout') queueAtKill ??= queueCounts(stack);
    };
    lambda = await startRunner(stack, { maxEnvironments: 1, onInvocation });
  });

  afterAll(async () => {
    await lambda?.stop();
  });

  it('kills an environment that outlives the timeout; its chunk comes back after the visibility timeout and is recorded once', async () => {
    expect(stack.overridden).toEqual([
      expect.stringMatching(/VisibilityTimeout: 600 → 6$/),
      expect.stringMatching(/Timeout: 300 → 4$/),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'fanout-asset-kill-'));
    const marker = join(dir, 'blocked-once');
    const log = join(dir, 'runs.log');
    const { context } = awsContext(stack.config);
    await using pool = new context.Pool(1);
    // A warm environment first, so that the chunk below starts as soon as it is received.
    expect(await pool.apply(square, [3])).toBe(9);
    // The first time it runs, the task blocks the handler's thread past the 4 s timeout.
    expect(await pool.apply(assetBlockHandler, [marker, log, 6_000], { timeout: 40_000 })).toBe('survived');
    const killed = lambda.records.find((record) => record.outcome.status === 'timeout')!;
    expect(killed.outcome).toEqual({ status: 'timeout', timeoutSeconds: 4 });
    expect(processAlive(killed.pid)).toBe(false);
    // The killed batch was neither deleted nor released: it waited out its visibility timeout.
    expect(await queueAtKill).toEqual({ visible: 0, inFlight: 1 });
    // It ran twice (killed, then redelivered to a new environment) and was recorded once.
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2);
    const redelivered = lambda.records[lambda.records.indexOf(killed) + 1]!;
    expect(redelivered).toMatchObject({ coldStart: true, outcome: { status: 'success' } });
    expect(redelivered.pid).not.toBe(killed.pid);
    const records = [...(await chunkRecords(stack.config)).values()];
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.every((entry) => entry.count === 1)).toBe(true);
    expect(await queueDepth(stack.config, stack.config.deadLetterQueueUrl!)).toBe(0);
    expect(lambda.runner.stats()).toMatchObject({ timeouts: 1, crashes: 0 });
  }, 60_000);
});

async function queueCounts(stack: ProvisionedStack): Promise<{ visible: number; inFlight: number }> {
  const clients = new AwsClients(stack.config);
  try {
    const attributes = (
      await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.config.queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes!;
    return {
      visible: Number(attributes.ApproximateNumberOfMessages),
      inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible),
    };
  } finally {
    clients.destroy();
  }
}

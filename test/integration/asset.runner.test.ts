import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { StackTemplateError } from '../../lib/errors.js';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import { batchVerdict } from '../../lib/backends/aws/lambda/batchResponse.js';
import type { InvocationRecord } from '../../lib/backends/aws/lambda/invocation.js';
import { LambdaRunner } from '../../lib/backends/aws/lambda/LambdaRunner.js';
import { provisionStack, type ProvisionedStack } from '../../lib/backends/aws/StackProvisioner.js';
import { processAlive, processState, provisionAsset, REPO_ROOT, startRunner, type TestRunner } from './assetHarness.js';
import { queueDepth, waitFor } from './awsHarness.js';

const PROBE_TEMPLATE = fileURLToPath(new URL('../fixtures/asset/probe.template.json', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The response of a successful invocation (fails the test otherwise). */
function responseOf<T>(record: InvocationRecord): T {
  if (record.outcome.status !== 'success') throw new Error(`expected a success, got ${JSON.stringify(record.outcome)}`);
  return record.outcome.response as T;
}

describe('the Lambda runner on a hand-written stack (the probe function)', () => {
  let stack: ProvisionedStack;
  let direct: TestRunner;

  beforeAll(async () => {
    stack = await provisionAsset('probe', { template: PROBE_TEMPLATE });
    process.env.FANOUT_ASSET_LEAK = 'from the test process';
    // Direct invocations only: the event source has its own runner below.
    direct = await startRunner(stack, { eventSource: undefined, maxEnvironments: 1 });
  });

  afterAll(async () => {
    delete process.env.FANOUT_ASSET_LEAK;
    await direct?.stop();
  });

  it('creates what the template declares and resolves the function’s environment to it', async () => {
    const clients = new AwsClients(stack.config);
    try {
      const queue = stack.resources.find((resource) => resource.logicalId === 'ProbeQueue')!;
      const deadLetters = stack.resources.find((resource) => resource.logicalId === 'ProbeDeadLetters')!;
      const attributes = (
        await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.physicalId, AttributeNames: ['All'] }))
      ).Attributes!;
      expect(attributes.VisibilityTimeout).toBe('2');
      expect(attributes.MaximumMessageSize).toBe('1048576');
      expect(JSON.parse(attributes.RedrivePolicy!)).toMatchObject({ deadLetterTargetArn: deadLetters.arn });
      expect(Number(JSON.parse(attributes.RedrivePolicy!).maxReceiveCount)).toBe(5);
      const table = await clients.dynamodb.send(new DescribeTableCommand({ TableName: stack.config.table }));
      expect(table.Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
      await clients.s3.send(new HeadBucketCommand({ Bucket: stack.config.bucket }));
    } finally {
      clients.destroy();
    }
    const probe = stack.worker.function;
    expect(stack.config.queueUrl).toBe(stack.resources.find((resource) => resource.logicalId === 'ProbeQueue')!.physicalId);
    expect(stack.config.deadLetterQueueUrl).toBe(stack.resources.find((r) => r.logicalId === 'ProbeDeadLetters')!.physicalId);
    expect(probe.environment).toMatchObject({
      FANOUT_QUEUE_URL: stack.config.queueUrl,
      FANOUT_TABLE: stack.config.table,
      FANOUT_BUCKET: stack.config.bucket,
      BUCKET_OBJECTS: `arn:aws:s3:::${stack.config.bucket}/*`,
      WHERE: `us-east-1/${stack.config.table}/\${Literal}`,
    });
    expect(probe.environment.QUEUE_ARN).toMatch(/^arn:aws:sqs:us-east-1:\d{12}:probe-/);
    // The role is not emulated: the variable that names it is left out, with the reason.
    expect(probe.unresolvedEnvironment).toEqual([{ name: 'ROLE_ARN', reason: expect.stringContaining('AWS::IAM::Role') }]);
    expect(stack.outputs.RoleArn).toBeUndefined();
    expect(stack.skipped).toEqual([{ logicalId: 'ProbeRole', type: 'AWS::IAM::Role' }]);
    expect(probe).toMatchObject({ handler: 'index.handler', memorySize: 256, timeoutSeconds: 2, runtime: 'nodejs22.x' });
    expect(stack.worker.eventSource).toMatchObject({
      batchSize: 2,
      maximumConcurrency: 2,
      maximumBatchingWindowSeconds: 0,
      reportBatchItemFailures: true,
      enabled: true,
      queueArn: probe.environment.QUEUE_ARN,
    });
  });

  it('refuses a template it cannot emulate, saying which resource and why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-template-'));
    const endpoints = inject('awsEmulators');
    const probe = JSON.parse(readFileSync(PROBE_TEMPLATE, 'utf8')) as {
      Resources: Record<string, { Properties: Record<string, unknown> }>;
    };
    const write = (name: string, change: (template: typeof probe) => void) => {
      const copy = structuredClone(probe);
      change(copy);
      const path = join(dir, `${name}.template.json`);
      writeFileSync(path, JSON.stringify(copy));
      return path;
    };
    // Lambda refuses a mapping whose queue hides a message for less than the function may run.
    const shortVisibility = write('ShortVisibility', (template) => {
      template.Resources.ProbeQueue!.Properties.VisibilityTimeout = 1;
    });
    await expect(provisionStack(shortVisibility, endpoints, { name: 'short-visibility' })).rejects.toThrow(
      /visibility timeout of 1 s, shorter than the function timeout of 2 s/,
    );
    const imported = write('Imported', (template) => {
      template.Resources.ProbeQueue!.Properties.DelaySeconds = { 'Fn::ImportValue': 'Elsewhere' };
    });
    const error = await provisionStack(imported, endpoints, { name: 'imported' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackTemplateError);
    expect((error as Error).message).toMatch(
      /Resources\.ProbeQueue\.Properties\.DelaySeconds: the intrinsic function Fn::ImportValue/,
    );
    await expect(provisionStack(join(dir, 'Missing.template.json'), endpoints)).rejects.toThrow(/No template at .*Synthesize/);
    writeFileSync(join(dir, 'Broken.template.json'), '{ not json');
    await expect(provisionStack(join(dir, 'Broken.template.json'), endpoints)).rejects.toThrow(/is not JSON/);
  });

  it('gives the function Lambda’s variables, context and logs, the emulators, and nothing of this process', async () => {
    const names = [
      'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
      'AWS_LAMBDA_FUNCTION_NAME',
      '_HANDLER',
      'LAMBDA_TASK_ROOT',
      'AWS_REGION',
      'AWS_ENDPOINT_URL_SQS',
      'AWS_ENDPOINT_URL_DYNAMODB',
      'AWS_ACCESS_KEY_ID',
      'FANOUT_QUEUE_URL',
      'TZ',
      'FANOUT_ASSET_LEAK',
      'AWS_LAMBDA_FUNCTION_TIMEOUT',
    ];
    const record = await direct.runner.invoke({ action: 'context', names });
    const context = responseOf<{
      env: Record<string, string | null>;
      cwd: string;
      memoryLimitInMB: string;
      functionName: string;
    }>(record);
    const probe = stack.worker.function;
    expect(context).toMatchObject({ memoryLimitInMB: '256', functionName: probe.functionName });
    expect(context.env).toEqual({
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_NAME: probe.functionName,
      _HANDLER: 'index.handler',
      LAMBDA_TASK_ROOT: context.cwd,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SQS: stack.config.endpoints!.sqs,
      AWS_ENDPOINT_URL_DYNAMODB: stack.config.endpoints!.dynamodb,
      AWS_ACCESS_KEY_ID: 'fanout-local',
      FANOUT_QUEUE_URL: stack.config.queueUrl,
      TZ: ':UTC',
      // Not passed down from the test process, and not a variable Lambda sets.
      FANOUT_ASSET_LEAK: null,
      AWS_LAMBDA_FUNCTION_TIMEOUT: null,
    });
    // The code runs from a copy outside the repository: it finds what it bundled and the
    // runtime's AWS SDK, not the project's node_modules.
    expect(context.cwd.startsWith(REPO_ROOT)).toBe(false);
    expect(responseOf(await direct.runner.invoke({ action: 'import', modules: ['@aws-sdk/client-sqs', 'vitest'] }))).toEqual({
      '@aws-sdk/client-sqs': 'ok',
      vitest: 'ERR_MODULE_NOT_FOUND',
    });
    const logged = await direct.runner.invoke({ action: 'log', text: 'hello' });
    const lines = direct.logs.filter((line) => line.includes(logged.requestId));
    expect(lines.some((line) => line.startsWith(`START RequestId: ${logged.requestId}`))).toBe(true);
    expect(
      lines.some((line) =>
        new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${logged.requestId}\\tINFO\\tprobe says hello$`).test(line),
      ),
    ).toBe(true);
    expect(lines.some((line) => line.endsWith(`\t${logged.requestId}\tERROR\tprobe warns`))).toBe(true);
    expect(lines.some((line) => line.startsWith(`REPORT RequestId: ${logged.requestId}\tDuration:`))).toBe(true);
  });

  it('initializes an environment once, reuses it while warm, and freezes it between invocations', async () => {
    type Counts = { timerTicks: number; threadTicks: number; inits: number; invocations: number; pid: number };
    const first = await direct.runner.invoke({ action: 'counts' });
    const a = responseOf<Counts>(first);
    // Running, its timer and its thread count (the control: these counters do move)...
    const remaining = responseOf<{ before: number; after: number }>(await direct.runner.invoke({ action: 'remaining', ms: 300 }));
    const b = responseOf<Counts>(await direct.runner.invoke({ action: 'counts' }));
    expect(b.timerTicks - a.timerTicks).toBeGreaterThan(0);
    expect(b.threadTicks - a.threadTicks).toBeGreaterThan(0);
    // ...and the context's remaining time counts down from the function's timeout.
    expect(remaining.before).toBeLessThanOrEqual(2000);
    expect(remaining.after).toBeLessThan(remaining.before);
    // Frozen between invocations: the process is stopped, and neither timer nor thread moves.
    expect(processState(first.pid)).toBe('T');
    await sleep(500);
    const c = responseOf<Counts>(await direct.runner.invoke({ action: 'counts' }));
    // Unfrozen, 500 ms is ~50 ticks of each 10 ms counter; a few may fall between the answer and
    // the stop, or between the thaw and the read, on a loaded machine.
    expect(c.timerTicks - b.timerTicks).toBeLessThanOrEqual(5);
    expect(c.threadTicks - b.threadTicks).toBeLessThanOrEqual(5);
    expect(c).toMatchObject({ pid: a.pid, inits: 1 });
    expect(c.invocations).toBeGreaterThan(a.invocations);
    expect(direct.records.filter((record) => record.pid === a.pid && record.coldStart)).toHaveLength(1);
  });

  it('kills the environment at the function’s timeout, whatever its handler does, and starts a new one', async () => {
    for (const action of ['hang', 'spin']) {
      const record = await direct.runner.invoke({ action });
      expect(record.outcome).toEqual({ status: 'timeout', timeoutSeconds: 2 });
      expect(processAlive(record.pid)).toBe(false);
      expect(direct.logs.some((line) => line.endsWith(`${record.requestId} Task timed out after 2.00 seconds`))).toBe(true);
      const next = await direct.runner.invoke({ action: 'counts' });
      expect(next.coldStart).toBe(true);
      expect(next.pid).not.toBe(record.pid);
    }
  }, 30_000);

  it('keeps the environment after a handler error; discards it when the runtime exits', async () => {
    const warm = await direct.runner.invoke({ action: 'counts' });
    const failed = await direct.runner.invoke({ action: 'throw', message: 'no' });
    expect(failed.outcome).toMatchObject({ status: 'error', error: { errorType: 'RangeError', errorMessage: 'no' } });
    expect(failed.pid).toBe(warm.pid);
    const crashes = [
      [
        { action: 'exit', code: 3 },
        { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: exit status 3' },
      ],
      [{ action: 'throwInTimer' }, { errorType: 'Error', errorMessage: 'thrown from a timer' }],
    ] as const;
    for (const [event, error] of crashes) {
      const record = await direct.runner.invoke(event);
      expect(record.outcome).toMatchObject({ status: 'crashed', error });
      expect(processAlive(record.pid)).toBe(false);
    }
    // Memory over the function's: a 128 MB function that holds 160 MB more (a long timeout, so
    // that the memory check, not the timeout, ends it).
    const small = new LambdaRunner({ ...stack.worker.function, memorySize: 128, timeoutSeconds: 30 }, { config: stack.config });
    await small.start();
    try {
      const record = await small.invoke({ action: 'hoard', mb: 160 });
      expect(record.outcome).toMatchObject({ status: 'crashed', error: { errorType: 'Runtime.OutOfMemory' } });
      expect(processAlive(record.pid)).toBe(false);
    } finally {
      await small.stop();
    }
    for (const [handler, errorType] of [
      ['missing.handler', 'Runtime.ImportModuleError'],
      ['index.nothing', 'Runtime.HandlerNotFound'],
    ] as const) {
      const broken = new LambdaRunner({ ...stack.worker.function, handler }, { config: stack.config });
      await broken.start();
      try {
        const record = await broken.invoke({});
        expect(record.outcome).toMatchObject({ status: 'crashed', error: { errorType } });
        expect(broken.environments()).toEqual([]);
      } finally {
        await broken.stop();
      }
    }
  }, 60_000);

  it('polls the queue as the SQS trigger: batches, MaximumConcurrency, ReportBatchItemFailures', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'fanout-probe-')), 'records.log');
    writeFileSync(log, '');
    // More environments allowed than the mapping's MaximumConcurrency (2): the mapping limits.
    const polling = await startRunner(stack, { maxEnvironments: 4, waitTimeSeconds: 1, environment: { PROBE_LOG: log } });
    const clients = new AwsClients(stack.config);
    try {
      // Two warm environments first: a cold start's init counts against a message's 2 s visibility
      // timeout (not against the function's timeout) and could let it come back while it runs.
      const warm = await Promise.all([polling.runner.invoke({ action: 'counts' }), polling.runner.invoke({ action: 'counts' })]);
      expect(new Set(warm.map((record) => record.pid)).size).toBe(2);
      const bodies = [
        { id: 1 },
        { id: 2, failUntilReceive: 2 },
        { id: 3 },
        { id: 4, throwUntilReceive: 2 },
        { id: 5 },
        { id: 6 },
        { id: 7 },
      ];
      await clients.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: stack.config.queueUrl,
          Entries: bodies.map((body) => ({ Id: String(body.id), MessageBody: JSON.stringify(body) })),
        }),
      );
      type Line = { id: number; receiveCount: number; batch: number; pid: number; requestId: string };
      const lines = () =>
        readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Line);
      await waitFor(async () => (await queueDepth(stack.config, stack.config.queueUrl)) === 0, 30_000, 'an empty queue');
      const seen = lines();
      const runs = (id: number) => seen.filter((line) => line.id === id).map((line) => line.receiveCount);
      // A reported failure comes back (after the visibility timeout) and succeeds at its second receive.
      expect(runs(2)).toEqual([1, 2]);
      // A thrown batch fails every message in it; id 4 comes back, and so may its batch mates.
      expect(runs(4)).toEqual([1, 2]);
      for (const id of [1, 3, 5, 6, 7]) expect(runs(id).length).toBeGreaterThanOrEqual(1);
      const thrownBatch = seen.find((line) => line.id === 4 && line.receiveCount === 1)!.requestId;
      for (const mate of seen.filter((line) => line.requestId === thrownBatch && line.id !== 4)) {
        expect(runs(mate.id)).toEqual([1, 2]);
      }
      // Reported failures and thrown batches aside, every message ran once and was deleted.
      const retried = new Set([2, 4, ...seen.filter((line) => line.requestId === thrownBatch).map((line) => line.id)]);
      for (const id of [1, 3, 5, 6, 7].filter((id) => !retried.has(id))) expect(runs(id)).toEqual([1]);
      expect(Math.max(...seen.map((line) => line.batch))).toBeLessThanOrEqual(2);
      expect(new Set(seen.map((line) => line.pid)).size).toBeLessThanOrEqual(2);
      expect(new Set(polling.records.map((record) => record.environmentId)).size).toBeLessThanOrEqual(2);
      expect(await queueDepth(stack.config, stack.config.deadLetterQueueUrl!)).toBe(0);
      const stats = polling.runner.stats();
      expect(stats.eventSource?.messagesDeleted).toBe(7);
    } finally {
      clients.destroy();
      await polling.stop();
    }
    // Stopped: every environment it ran is gone.
    for (const record of polling.records) expect(processAlive(record.pid)).toBe(false);
  }, 60_000);

  it('gathers a batch for MaximumBatchingWindowInSeconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-window-'));
    const template = JSON.parse(readFileSync(PROBE_TEMPLATE, 'utf8')) as {
      Resources: Record<string, { Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
    };
    template.Resources.ProbeTrigger!.Properties.BatchSize = 5;
    template.Resources.ProbeTrigger!.Properties.MaximumBatchingWindowInSeconds = 2;
    // Longer than the window, or a message received early in it would come back within it.
    template.Resources.ProbeQueue!.Properties.VisibilityTimeout = 10;
    template.Resources.Probe!.Metadata!['aws:asset:path'] = join(dirname(PROBE_TEMPLATE), 'probe');
    writeFileSync(join(dir, 'Window.template.json'), JSON.stringify(template));
    const windowed = await provisionAsset('window', { template: join(dir, 'Window.template.json') });
    expect(windowed.worker.eventSource).toMatchObject({ batchSize: 5, maximumBatchingWindowSeconds: 2 });
    const log = join(dir, 'records.log');
    writeFileSync(log, '');
    // One poller: two would each gather a part of the messages.
    const polling = await startRunner(windowed, { maxEnvironments: 1, waitTimeSeconds: 1, environment: { PROBE_LOG: log } });
    const clients = new AwsClients(windowed.config);
    try {
      // Three messages sent one by one, well within the window: one invocation gets them all.
      for (const id of [1, 2, 3]) {
        await clients.sqs.send(
          new SendMessageCommand({ QueueUrl: windowed.config.queueUrl, MessageBody: JSON.stringify({ id }) }),
        );
      }
      await waitFor(() => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).length === 3, 20_000, 'three records');
      const lines = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { batch: number });
      expect(lines.map((line) => line.batch)).toEqual([3, 3, 3]);
    } finally {
      clients.destroy();
      await polling.stop();
    }
  });

  it('leaves no environment behind when this process exits without stop()', async () => {
    const script = fileURLToPath(new URL('../fixtures/asset/exitWithoutStop.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT });
    const { pid, status, state } = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      pid: number;
      status: string;
      state: string;
    };
    expect({ status, state }).toEqual({ status: 'success', state: 'idle' });
    await waitFor(() => !processAlive(pid), 5_000, `the environment ${pid} to be gone`);
  });
});

describe('batchVerdict: which messages Lambda deletes', () => {
  const ids = ['m1', 'm2', 'm3'];
  const success = (response: unknown) => ({ status: 'success', response }) as const;

  it('deletes all when the response reports no failures, or when ReportBatchItemFailures is off', () => {
    for (const response of [null, undefined, {}, { batchItemFailures: [] }, { batchItemFailures: null }]) {
      expect(batchVerdict(success(response), ids, true)).toEqual({ failedIds: new Set(), wholeBatchReason: undefined });
    }
    expect(batchVerdict(success({ batchItemFailures: [{ itemIdentifier: 'm1' }] }), ids, false).failedIds.size).toBe(0);
  });

  it('keeps the reported failures', () => {
    const verdict = batchVerdict(success({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }] }), ids, true);
    expect(verdict).toEqual({ failedIds: new Set(['m2', 'm3']), wholeBatchReason: undefined });
  });

  it('fails the whole batch for a malformed response or a failed invocation', () => {
    for (const response of [
      'ok',
      [],
      { batchItemFailures: {} },
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{ itemIdentifier: null }] },
      { batchItemFailures: [{ id: 'm1' }] },
      { batchItemFailures: [{ itemIdentifier: 'elsewhere' }] },
    ]) {
      expect(batchVerdict(success(response), ids, true).failedIds).toEqual(new Set(ids));
    }
    const error = { errorType: 'Error', errorMessage: 'no', trace: [] };
    for (const outcome of [
      { status: 'error', error },
      { status: 'crashed', error },
      { status: 'timeout', timeoutSeconds: 3 },
    ] as const) {
      expect(batchVerdict(outcome, ids, true).wholeBatchReason).toBeDefined();
      expect(batchVerdict(outcome, ids, false).failedIds).toEqual(new Set(ids));
    }
  });
});

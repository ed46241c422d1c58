import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { build } from 'esbuild';
import { AwsClients } from '../../lib/backends/aws/AwsClients.js';
import { configEnvironment } from '../../lib/backends/aws/emulator.js';
import { awsFail } from '../fixtures/awsTasks.js';
import { square } from '../fixtures/tasks.js';
import { awsContext, provisionForTest, queueDepth, waitFor } from './awsHarness.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/** Bundles the worker as the Fanout construct does: an entry importing the task modules, then the handler; ESM, minified. */
async function bundleWorker(dir: string): Promise<string> {
  const entry = join(dir, 'entry.mjs');
  writeFileSync(
    entry,
    [
      `import ${JSON.stringify(join(repo, 'test/fixtures/tasks.ts'))};`,
      `import ${JSON.stringify(join(repo, 'test/fixtures/awsTasks.ts'))};`,
      `export { handler } from ${JSON.stringify(join(repo, 'functions/worker/handler.ts'))};`,
    ].join('\n'),
  );
  const outfile = join(dir, 'index.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    // As on Lambda's Node runtime, the AWS SDK is provided, not bundled.
    external: ['@aws-sdk/*'],
    banner: {
      js: "import { createRequire as __fanoutCreateRequire } from 'node:module'; const require = __fanoutCreateRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  return outfile;
}

describe('the bundled worker (as deployed to Lambda)', () => {
  it('runs chunks on worker threads started from the bundle itself, finding tasks by name', async () => {
    // Inside the repository, so that the bundle resolves the AWS SDK from node_modules as Lambda provides it.
    mkdirSync(join(repo, '.fanout'), { recursive: true });
    const dir = mkdtempSync(join(repo, '.fanout', 'bundle-'));
    try {
      await runBundled(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** Bundles the worker, has it run seven chunks (one a task error) as Lambda would, and checks the results. */
async function runBundled(dir: string): Promise<void> {
  const bundle = await bundleWorker(dir);
  const config = await provisionForTest('bundle');
  const { context } = awsContext(config);
  await using pool = new context.Pool(4);
  const squares = pool.map(square, [1, 2, 3, 4, 5, 6], { chunksize: 1 });
  const failed = pool.apply(awsFail, [9]).catch((error: unknown) => error);
  await waitFor(async () => (await queueDepth(config, config.queueUrl)) === 7, 20_000, '7 messages on the queue');
  const clients = new AwsClients(config);
  const records: SQSEvent['Records'] = [];
  while (records.length < 7) {
    const received = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: config.queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 120,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    for (const message of received.Messages ?? []) {
      records.push({
        messageId: message.MessageId!,
        receiptHandle: message.ReceiptHandle!,
        body: message.Body!,
        attributes: {
          ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: '',
          SenderId: '',
          ApproximateFirstReceiveTimestamp: '',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bundle',
        awsRegion: config.region,
      });
    }
  }
  clients.destroy();
  const eventFile = join(dir, 'event.json');
  writeFileSync(eventFile, JSON.stringify({ Records: records }));
  // The environment the stack gives the Lambda; 3,538 MB is two vCPUs, so two threads.
  const { FANOUT_BACKEND: _unused, ...environment } = configEnvironment(config);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(repo, 'test/integration/bundleInvoke.mjs'), bundle, eventFile],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        ...environment,
        FANOUT_WORKER_MEMORY_MB: '3538',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ batchItemFailures: [] });
  expect(await squares).toEqual([1, 4, 9, 16, 25, 36]);
  const error = (await failed) as Error;
  expect(error.message).toContain('no good: 9');
}

/**
 * The aws backend on this machine: starts the emulators (fauxqs for SQS and S3, dynalite for
 * DynamoDB) and creates the stack's queues, table and bucket in them, over HTTP with the AWS
 * SDK (so provisioning works against LocalStack too). Used by `npm run emulator`, the
 * integration tests and the bench. The emulators are dev dependencies, imported only here.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AddressInfo } from 'node:net';
import type { AwsConfig } from './AwsConfig.js';

/** Endpoints of running emulators. */
export interface EmulatorEndpoints {
  sqs: string;
  s3: string;
  dynamodb: string;
}

/** Running emulators; `stop()` shuts them down. */
export interface Emulators {
  endpoints: EmulatorEndpoints;
  region: string;
  stop(): Promise<void>;
}

/** Options of {@link provisionResources}. */
export interface ProvisionOptions {
  /** Prefix of the resource names (lower case letters, digits, dashes). @default 'fanout' */
  name?: string;
  /** The task queue's visibility timeout in seconds (6 × the worker timeout in the stack). @default 30 */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message goes to the dead-letter queue. @default 5 */
  maxReceiveCount?: number;
  /** @default 86400 */
  retentionSeconds?: number;
  region?: string;
}

const EMULATOR_CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };

/**
 * Starts fauxqs (SQS and S3) and dynalite (DynamoDB) on `host`; port 0 picks free ports.
 *
 * @example
 * ```ts
 * const emulators = await startEmulators();
 * const config = await provisionResources(emulators.endpoints, { name: 'demo' });
 * await emulators.stop();
 * ```
 */
export async function startEmulators(
  options: { host?: string; sqsPort?: number; dynamodbPort?: number } = {},
): Promise<Emulators> {
  const host = options.host ?? '127.0.0.1';
  const { startFauxqs } = await import('fauxqs');
  const { default: dynalite } = await import('dynalite');
  const fauxqs = await startFauxqs({ port: options.sqsPort ?? 0, host, logger: false });
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      dynamo.once('error', reject);
      dynamo.listen(options.dynamodbPort ?? 0, host, () => resolve());
    });
  } catch (error) {
    await fauxqs.stop();
    throw error;
  }
  const dynamoPort = (dynamo.address() as AddressInfo).port;
  const sqsUrl = `http://${host}:${fauxqs.port}`;
  return {
    endpoints: { sqs: sqsUrl, s3: sqsUrl, dynamodb: `http://${host}:${dynamoPort}` },
    region: 'us-east-1',
    async stop() {
      dynamo.closeAllConnections?.();
      await Promise.all([fauxqs.stop(), new Promise<void>((resolve) => dynamo.close(() => resolve()))]);
    },
  };
}

/**
 * Creates what the `Fanout` stack defines — the task queue (1 MiB messages, redrive to a
 * dead-letter queue), the table (`pk`/`sk`, on demand) and the payload bucket — at the given
 * endpoints, and returns the configuration that points at them. Existing resources are reused.
 * (The TTL setting is left out: dynalite has no UpdateTimeToLive.)
 *
 * @example
 * ```ts
 * const config = await provisionResources(emulators.endpoints, { name: 'test-a', visibilityTimeoutSeconds: 2 });
 * ```
 */
export async function provisionResources(endpoints: EmulatorEndpoints, options: ProvisionOptions = {}): Promise<AwsConfig> {
  const name = options.name ?? 'fanout';
  if (!/^[a-z0-9][a-z0-9-]{1,40}$/.test(name)) {
    throw new Error(`provisionResources: name must be 2–41 lower-case letters, digits and dashes; got '${name}'.`);
  }
  const region = options.region ?? 'us-east-1';
  const credentials = process.env.AWS_ACCESS_KEY_ID ? {} : { credentials: EMULATOR_CREDENTIALS };
  const sqs = new SQSClient({ region, endpoint: endpoints.sqs, ...credentials });
  const dynamodb = new DynamoDBClient({ region, endpoint: endpoints.dynamodb, ...credentials });
  const s3 = new S3Client({ region, endpoint: endpoints.s3, forcePathStyle: true, ...credentials });
  try {
    const deadLetter = await sqs.send(
      new CreateQueueCommand({ QueueName: `${name}-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }),
    );
    const deadLetterArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetter.QueueUrl!, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${name}-tasks`,
        Attributes: {
          MaximumMessageSize: String(1024 * 1024),
          VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: deadLetterArn,
            maxReceiveCount: String(options.maxReceiveCount ?? 5),
          }),
        },
      }),
    );
    const table = `${name}-state`;
    await dynamodb
      .send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      )
      .catch((error: { name?: string }) => {
        if (error.name !== 'ResourceInUseException') throw error;
      });
    const bucket = `${name}-payloads`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
    return {
      region,
      queueUrl: queue.QueueUrl!,
      deadLetterQueueUrl: deadLetter.QueueUrl!,
      table,
      bucket,
      retentionSeconds: options.retentionSeconds ?? 86_400,
      endpoints: { ...endpoints },
    };
  } finally {
    sqs.destroy();
    dynamodb.destroy();
    s3.destroy();
  }
}

/** The environment variables that point the aws backend (client and workers) at `config`. */
export function configEnvironment(config: AwsConfig): Record<string, string> {
  return {
    FANOUT_BACKEND: 'aws',
    AWS_REGION: config.region,
    FANOUT_QUEUE_URL: config.queueUrl,
    ...(config.deadLetterQueueUrl ? { FANOUT_DLQ_URL: config.deadLetterQueueUrl } : {}),
    FANOUT_TABLE: config.table,
    FANOUT_BUCKET: config.bucket,
    FANOUT_RETENTION_SECONDS: String(config.retentionSeconds),
    ...(config.endpoints?.sqs ? { AWS_ENDPOINT_URL_SQS: config.endpoints.sqs } : {}),
    ...(config.endpoints?.s3 ? { AWS_ENDPOINT_URL_S3: config.endpoints.s3 } : {}),
    ...(config.endpoints?.dynamodb ? { AWS_ENDPOINT_URL_DYNAMODB: config.endpoints.dynamodb } : {}),
  };
}

import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsConfig } from '../../lib/backends/aws/AwsConfig.js';
import { EmulatorGateway } from '../../lib/backends/aws/EmulatorGateway.js';
import { provisionResources, startEmulators, type Emulators } from '../../lib/backends/aws/emulator.js';
import { InvalidArgumentError } from '../../lib/errors.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

describe('one endpoint for every emulated service (as LocalStack offers)', () => {
  let emulators: Emulators;
  let config: AwsConfig;
  let gateway: string;
  const credentials = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };

  beforeAll(async () => {
    emulators = await startEmulators({ gatewayPort: 0 });
    config = await provisionResources(emulators.endpoints, { name: 'gateway-test' });
    gateway = emulators.gatewayUrl!;
  });
  afterAll(() => emulators?.stop());

  it('serves SQS, DynamoDB and S3 through the one URL, with the real SDK', async () => {
    expect(gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const sqs = new SQSClient({ endpoint: gateway, region: 'us-east-1', credentials });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'gateway-test-tasks' }));
    // Named when the queue was made (fauxqs keys queues by URL): a loopback URL that resolves.
    expect(QueueUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/gateway-test-tasks$/);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'through the gateway' }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MessageAttributeNames: [] }));
    expect(received.Messages?.map((message) => message.Body)).toEqual(['through the gateway']);

    const dynamodb = new DynamoDBClient({ endpoint: gateway, region: 'us-east-1', credentials });
    await dynamodb.send(new PutItemCommand({ TableName: config.table, Item: { pk: { S: 'a' }, sk: { S: 'b' }, v: { N: '7' } } }));
    const item = await dynamodb.send(new GetItemCommand({ TableName: config.table, Key: { pk: { S: 'a' }, sk: { S: 'b' } } }));
    expect(item.Item?.v).toEqual({ N: '7' });

    const s3 = new S3Client({ endpoint: gateway, region: 'us-east-1', credentials, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: 'k', Body: 'payload bytes' }));
    const object = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: 'k' }));
    expect(await object.Body?.transformToString()).toBe('payload bytes');
    for (const client of [sqs, dynamodb, s3]) client.destroy();
  });

  it('answers 502 naming the emulator when one does not answer, and refuses non-loopback hosts', async () => {
    const orphan = await EmulatorGateway.start({ sqsAndS3: 'http://127.0.0.1:9', dynamodb: 'http://127.0.0.1:9' });
    try {
      const response = await fetch(`${orphan.url}/`);
      expect(response.status).toBe(502);
      expect(await response.text()).toMatch(/^fanout emulator gateway: http:\/\/127\.0\.0\.1:9 did not answer/);
    } finally {
      await orphan.stop();
    }
    await expect(EmulatorGateway.start({ sqsAndS3: gateway, dynamodb: gateway }, { host: '0.0.0.0' })).rejects.toThrow(
      InvalidArgumentError,
    );
  });
});

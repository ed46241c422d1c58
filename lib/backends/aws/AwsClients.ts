import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AwsConfig } from './AwsConfig.js';
import { RequestCounter } from './RequestCounter.js';

/** Credentials used against emulators when none are set (emulators accept any). */
const EMULATOR_CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };

/**
 * The SQS, DynamoDB and S3 clients of one side (a pool, or a worker), sharing one request
 * counter. Against emulators it sets their endpoints, S3 path-style addressing, and dummy
 * credentials when none are configured.
 *
 * @example
 * ```ts
 * const clients = new AwsClients(await resolveAwsConfig());
 * await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: clients.config.queueUrl }));
 * clients.destroy();
 * ```
 */
export class AwsClients {
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly counter: RequestCounter;

  constructor(
    readonly config: AwsConfig,
    counter: RequestCounter = new RequestCounter(),
  ) {
    this.counter = counter;
    const endpoints = config.endpoints;
    const emulated = Boolean(endpoints?.sqs || endpoints?.s3 || endpoints?.dynamodb);
    const useDummyCredentials = emulated && !process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE;
    // Keep-alive sockets, enough of them for the fleet's long polls next to its other requests.
    const requestHandler = {
      httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
      // A request that hangs fails (and is retried) instead of stalling a pool; long polls take 20 s.
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
    };
    const common = {
      region: config.region,
      requestHandler,
      ...(useDummyCredentials ? { credentials: EMULATOR_CREDENTIALS } : {}),
    };
    this.sqs = new SQSClient({ ...common, ...(endpoints?.sqs ? { endpoint: endpoints.sqs } : {}) });
    this.dynamodb = new DynamoDBClient({ ...common, ...(endpoints?.dynamodb ? { endpoint: endpoints.dynamodb } : {}) });
    this.s3 = new S3Client({
      ...common,
      ...(endpoints?.s3 ? { endpoint: endpoints.s3, forcePathStyle: true } : {}),
    });
    counter.watch(this.sqs, 'SQS');
    counter.watch(this.dynamodb, 'DynamoDB');
    counter.watch(this.s3, 'S3');
  }

  /** Closes the clients' sockets. */
  destroy(): void {
    this.sqs.destroy();
    this.dynamodb.destroy();
    this.s3.destroy();
  }
}

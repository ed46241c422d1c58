/**
 * The aws backend on this machine: starts the emulators (fauxqs for SQS and S3, dynalite for
 * DynamoDB) on a loopback address and creates the stack's queues, table and bucket in them, over
 * HTTP with the AWS SDK (so provisioning works against LocalStack too). Used by `fanout emulator`,
 * the integration tests and the bench. The emulators are optional dependencies, imported only here.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, MissingDependencyError } from '../../errors.js';
import type { AwsConfig } from './AwsConfig.js';
import { EmulatorGateway } from './EmulatorGateway.js';
import { isLoopbackHost, RESOURCE_NAME_PATTERN } from './emulatorRules.js';
import { portOption } from '../../util/listenOnPort.js';

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
  /** The servers' listening addresses (loopback only). */
  addresses: { sqs: AddressInfo; dynamodb: AddressInfo; gateway?: AddressInfo };
  /** The single endpoint for every service, when `gatewayPort` was given. */
  gatewayUrl?: string;
  stop(): Promise<void>;
}

/** Options of {@link startEmulators}. */
export interface EmulatorOptions {
  /** A loopback address: `127.0.0.1` (or any 127.x.y.z), `::1` or `localhost`. @default '127.0.0.1' */
  host?: string;
  /** fauxqs's port (SQS and S3); 0 picks a free one. @default 0 */
  sqsPort?: number;
  /** dynalite's port (DynamoDB); 0 picks a free one. @default 0 */
  dynamodbPort?: number;
  /**
   * The port of one endpoint for every service ({@link EmulatorGateway}, as LocalStack's 4566),
   * for `AWS_ENDPOINT_URL` users; 0 picks a free one. @default none
   */
  gatewayPort?: number;
}

/** Options of {@link provisionResources}. */
export interface ProvisionOptions {
  /** Prefix of the resource names (lower case letters, digits, dashes). @default 'fanout' */
  name?: string;
  /** The task queue's visibility timeout in seconds (the stack's is 2 × its worker timeout). @default 30 */
  visibilityTimeoutSeconds?: number;
  /** Receives before a message goes to the dead-letter queue. @default 5 */
  maxReceiveCount?: number;
  /** @default 86400 */
  retentionSeconds?: number;
  region?: string;
}

/**
 * The command that installs the emulators, which are optional dependencies of fanout (the
 * versions fanout is tested with).
 *
 * @example
 * ```ts
 * console.log(`run: ${EMULATOR_INSTALL}`);
 * ```
 */
export const EMULATOR_INSTALL = 'npm install --save-dev fauxqs@1.9.2 dynalite@4.0.0';

/**
 * The credentials of the emulated account: the emulators accept any, the Lambda runner gives
 * these to the functions it runs, `fanout emulator` prints them (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`) and its jobs API checks SigV4 signatures against them.
 *
 * @example
 * ```ts
 * await signedFetch(`${apiUrl}/jobs/${jobId}`, { region: 'us-east-1', credentials: EMULATOR_CREDENTIALS });
 * ```
 */
// Not frozen: the SDK marks the credentials objects it is given (their `$source`).
export const EMULATOR_CREDENTIALS: { readonly accessKeyId: string; readonly secretAccessKey: string } = {
  accessKeyId: 'fanout-local',
  secretAccessKey: 'fanout-local',
};

/**
 * What `startEmulators` uses of the emulator packages, loaded on first use (typed here, so that
 * fanout's types do not depend on packages a user may not have installed).
 */
export interface EmulatorModules {
  buildApp: (options: { logger: boolean; stores: { sqsStore: { host: string } } }) => {
    listen(options: { port: number; host: string }): Promise<string>;
    close(): Promise<void>;
    server: Server;
  };
  SqsStore: new () => { host: string };
  dynalite: (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;
}

/**
 * Loads the emulator packages; `load` is `import` (tests pass one that finds nothing). Throws
 * {@link MissingDependencyError} naming those that are not installed.
 *
 * @example
 * ```ts
 * const { buildApp, SqsStore, dynalite } = await loadEmulatorModules();
 * ```
 */
export async function loadEmulatorModules(
  load: (specifier: string) => Promise<unknown> = (specifier) => import(specifier),
): Promise<EmulatorModules> {
  const missing: string[] = [];
  const loadPackage = async (name: string): Promise<unknown> => {
    try {
      return await load(name);
    } catch (error) {
      const { code, message } = error as { code?: unknown; message?: unknown };
      const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
      if (!notFound || !String(message).includes(`'${name}'`)) throw error;
      missing.push(name);
      return undefined;
    }
  };
  const fauxqs = (await loadPackage('fauxqs')) as Pick<EmulatorModules, 'buildApp'> | undefined;
  const dynalite = (await loadPackage('dynalite')) as { default: EmulatorModules['dynalite'] } | undefined;
  if (!fauxqs || !dynalite) throw new MissingDependencyError('The fanout emulator', missing, EMULATOR_INSTALL);
  // fauxqs's own startFauxqs listens on 0.0.0.0 whatever host it is given (dist/app.js) and names
  // queues http://sqs.<region>.<host>:<port>/..., a host name that does not resolve. So fanout
  // builds its app itself, listens on loopback, and gives it a queue store that names queues
  // after the address the client used (http://127.0.0.1:<port>/<account>/<queue>). The store
  // class is not exported: it is found beside the package, as Node's resolution finds the package.
  const storeFile = (createRequire(import.meta.url).resolve.paths('fauxqs') ?? [])
    .map((directory) => join(directory, 'fauxqs', 'dist', 'sqs', 'sqsStore.js'))
    .find((file) => existsSync(file));
  const store = storeFile
    ? ((await import(pathToFileURL(storeFile).href)) as Partial<Pick<EmulatorModules, 'SqsStore'>>)
    : undefined;
  if (typeof store?.SqsStore !== 'function') {
    throw new MissingDependencyError('The fanout emulator (the queue store of fauxqs 1.9)', ['fauxqs@1.9.2'], EMULATOR_INSTALL);
  }
  return { buildApp: fauxqs.buildApp, SqsStore: store.SqsStore, dynalite: dynalite.default };
}

/**
 * Starts fauxqs (SQS and S3) and dynalite (DynamoDB) on a loopback `host`; port 0 picks free
 * ports. Throws {@link MissingDependencyError} when the emulators are not installed, and
 * InvalidArgumentError for a host that is not loopback or a port in use.
 *
 * @example
 * ```ts
 * const emulators = await startEmulators();
 * const config = await provisionResources(emulators.endpoints, { name: 'demo' });
 * await emulators.stop();
 * ```
 */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new InvalidArgumentError(
      'startEmulators(options): host',
      host,
      'a loopback address (127.0.0.1, another 127.x.y.z, ::1 or localhost)',
      'The emulators accept any credentials, so they listen on this machine only.',
    );
  }
  const sqsPort = portOption('startEmulators(options): sqsPort', options.sqsPort);
  const dynamodbPort = portOption('startEmulators(options): dynamodbPort', options.dynamodbPort);
  const { buildApp, SqsStore, dynalite } = await loadEmulatorModules();
  const sqsStore = new SqsStore();
  sqsStore.host = '';
  const fauxqs = buildApp({ logger: false, stores: { sqsStore } });
  try {
    await fauxqs.listen({ port: sqsPort, host });
  } catch (error) {
    await fauxqs.close();
    throw listenError('sqsPort', sqsPort, error);
  }
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      dynamo.once('error', reject);
      dynamo.listen(dynamodbPort, host, () => {
        dynamo.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await fauxqs.close();
    throw listenError('dynamodbPort', dynamodbPort, error);
  }
  const sqsAddress = fauxqs.server.address() as AddressInfo;
  const dynamoAddress = dynamo.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const sqsUrl = `http://${urlHost}:${sqsAddress.port}`;
  const dynamodbUrl = `http://${urlHost}:${dynamoAddress.port}`;
  const stopEmulators = async () => {
    dynamo.closeAllConnections?.();
    await Promise.all([fauxqs.close(), new Promise<void>((resolve) => dynamo.close(() => resolve()))]);
  };
  let gateway: EmulatorGateway | undefined;
  if (options.gatewayPort !== undefined) {
    try {
      gateway = await EmulatorGateway.start({ sqsAndS3: sqsUrl, dynamodb: dynamodbUrl }, { host, port: options.gatewayPort });
    } catch (error) {
      await stopEmulators();
      throw error;
    }
  }
  return {
    endpoints: { sqs: sqsUrl, s3: sqsUrl, dynamodb: dynamodbUrl },
    region: 'us-east-1',
    addresses: { sqs: sqsAddress, dynamodb: dynamoAddress, ...(gateway ? { gateway: gateway.address() } : {}) },
    ...(gateway ? { gatewayUrl: gateway.url } : {}),
    async stop() {
      await Promise.all([stopEmulators(), gateway?.stop()]);
    },
  };
}

function listenError(option: string, port: number, error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    return new InvalidArgumentError(
      `startEmulators(options): ${option}`,
      port,
      'a port that is free and allowed',
      code === 'EADDRINUSE'
        ? 'It is in use; choose another, or 0 for any free port.'
        : 'It needs privileges; choose a port above 1023.',
    );
  }
  return error;
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
  if (!RESOURCE_NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError('provisionResources(options): name', name, '2–41 lower-case letters, digits and dashes');
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

/**
 * The environment variables that point the aws backend (client and workers) at `config`.
 *
 * @example
 * ```ts
 * const env = configEnvironment(await provisionResources(emulators.endpoints));
 * env.FANOUT_QUEUE_URL; // 'http://127.0.0.1:4566/000000000000/fanout-tasks'
 * ```
 */
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

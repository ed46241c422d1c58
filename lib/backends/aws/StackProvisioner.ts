import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { InvalidArgumentError, StackTemplateError } from '../../errors.js';
import { STACK_OUTPUTS, type AwsConfig } from './AwsConfig.js';
import type { EmulatorEndpoints } from './emulator.js';
import {
  describeFunctions,
  describeSqsEventSources,
  readStackTemplate,
  referencedLogicalIds,
  resolveIntrinsics,
  resolveString,
  type LambdaFunctionSpec,
  type ResolutionScope,
  type ResolvedResource,
  type SqsEventSourceSpec,
  type StackTemplate,
} from './stackTemplate.js';

/** Options of {@link provisionStack}. */
export interface ProvisionStackOptions {
  /**
   * Prefix of the emulated resources' names (letters, digits, dashes; at most 40), so that several
   * copies of one stack can live in the same emulators. @default the stack's name
   */
  name?: string;
  /** @default 'us-east-1' */
  region?: string;
  /**
   * Settings that replace the template's for the fanout worker, as a `Fanout` construct with
   * those props would synthesize them (e.g. a short function timeout for a test). Recorded in
   * {@link ProvisionedStack.overridden}.
   */
  overrides?: {
    /** The worker function's `Timeout`, in seconds. */
    functionTimeoutSeconds?: number;
    /** The task queue's `VisibilityTimeout`, in seconds. */
    visibilityTimeoutSeconds?: number;
  };
}

/** One resource the provisioner created (or found already there). */
export interface ProvisionedResource {
  logicalId: string;
  type: 'AWS::SQS::Queue' | 'AWS::DynamoDB::Table' | 'AWS::S3::Bucket';
  /** The queue's URL, the table's or bucket's name. */
  physicalId: string;
  arn: string;
  /**
   * Properties of the template the emulators did not take, with why: for example a queue's
   * `SqsManagedSseEnabled`, a table's `TimeToLiveSpecification` (dynalite has no UpdateTimeToLive),
   * a bucket's lifecycle rules. The stack deployed to AWS has them; the emulation does not.
   */
  notApplied: string[];
}

/** What {@link provisionStack} made of a template. */
export interface ProvisionedStack {
  stackName: string;
  templatePath: string;
  region: string;
  /** Where fanout's clients find the stack (from its outputs, as `FANOUT_STACK` reads them). */
  config: AwsConfig;
  /** The stack's outputs, resolved (those that refer only to emulated resources). */
  outputs: Record<string, string>;
  resources: ProvisionedResource[];
  /** Resources not emulated (IAM, policies, log groups, ...), with their types. */
  skipped: Array<{ logicalId: string; type: string }>;
  functions: LambdaFunctionSpec[];
  eventSources: SqsEventSourceSpec[];
  /**
   * Fanout's worker: the function whose environment names the task queue (and is not the API's),
   * triggered by an SQS event source mapping; and that mapping.
   */
  worker: { function: LambdaFunctionSpec; eventSource: SqsEventSourceSpec };
  /** Fanout's jobs API, when the stack has one (a stack made with `api: false` has none). */
  api: ProvisionedApi | undefined;
  /** What {@link ProvisionStackOptions.overrides} changed, e.g. `Worker Timeout: 300 → 2`. */
  overridden: string[];
}

/**
 * Fanout's jobs API in a template: the function the `Fanout` construct marks with
 * `FANOUT_FUNCTION=api` (infra/Fanout.ts), and the `AWS::Lambda::Url` in front of it.
 */
export interface ProvisionedApi {
  function: LambdaFunctionSpec;
  /** The logical ID of its `AWS::Lambda::Url`. */
  urlLogicalId: string;
  /** The URL's `AuthType`: `AWS_IAM` requires SigV4-signed requests; `NONE` serves anyone. */
  authType: 'AWS_IAM' | 'NONE';
}

/** What the Fanout construct sets `FANOUT_FUNCTION` to in the API function's environment. */
const API_FUNCTION_MARKER = 'api';
const EMULATOR_CREDENTIALS = { accessKeyId: 'fanout-local', secretAccessKey: 'fanout-local' };
const DEFAULT_RETENTION_SECONDS = 86_400;
const DEFAULT_ACCOUNT_ID = '000000000000';

/** Queue properties that are queue attributes of `CreateQueue`. */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
] as const;
const TABLE_PROPERTIES = [
  'TableName',
  'AttributeDefinitions',
  'KeySchema',
  'BillingMode',
  'ProvisionedThroughput',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'TimeToLiveSpecification',
];
const CREATED_TYPES = new Set(['AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket']);

/**
 * Creates what a synthesized stack declares on AWS-compatible emulators (fauxqs and dynalite,
 * or LocalStack), over HTTP with the AWS SDK: its SQS queues with their attributes (redrive
 * policies pointing at the created dead-letter queues), its DynamoDB tables with their keys and
 * indexes, its S3 buckets. Reads its Lambda functions (asset, handler, memory, timeout,
 * environment resolved to the emulated resources) and their SQS event source mappings, for a
 * {@link LambdaRunner}. What the emulators do not take is recorded per resource, not hidden.
 * Existing resources of the same names are reused.
 *
 * @example
 * ```ts
 * const provisioner = new StackProvisioner(readStackTemplate('cdk.out/Fanout.template.json'), emulators.endpoints);
 * const stack = await provisioner.provision();
 * ```
 */
export class StackProvisioner {
  private readonly prefix: string;
  private readonly region: string;
  private readonly created = new Map<string, ResolvedResource>();
  private readonly records: ProvisionedResource[] = [];
  private readonly overridden: string[] = [];
  /** The visibility timeout of each created queue, in seconds (SQS's default is 30). */
  private readonly visibilities = new Map<string, number>();
  private accountId = DEFAULT_ACCOUNT_ID;

  constructor(
    private readonly stack: StackTemplate,
    private readonly endpoints: EmulatorEndpoints,
    private readonly options: ProvisionStackOptions = {},
  ) {
    this.prefix = options.name ?? stack.stackName;
    if (typeof this.prefix !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/.test(this.prefix)) {
      throw new InvalidArgumentError('provisionStack: options.name', this.prefix, 'letters, digits and dashes, at most 40');
    }
    this.region = options.region ?? 'us-east-1';
    // Lambda's and SQS's limits.
    for (const [key, min, max] of [
      ['functionTimeoutSeconds', 1, 900],
      ['visibilityTimeoutSeconds', 0, 43_200],
    ] as const) {
      const value = options.overrides?.[key];
      if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
        throw new InvalidArgumentError(
          `provisionStack: options.overrides.${key}`,
          value,
          `a whole number of seconds from ${min} to ${max}`,
        );
      }
    }
    for (const [name, url] of Object.entries(endpoints ?? {})) {
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
        throw new InvalidArgumentError(`provisionStack: endpoints.${name}`, url, 'an http(s) URL of an emulator');
      }
    }
  }

  /** Creates the resources and describes the functions; see {@link StackProvisioner}. */
  async provision(): Promise<ProvisionedStack> {
    const credentials = process.env.AWS_ACCESS_KEY_ID ? {} : { credentials: EMULATOR_CREDENTIALS };
    const sqs = new SQSClient({ region: this.region, endpoint: this.endpoints.sqs, ...credentials });
    const dynamodb = new DynamoDBClient({ region: this.region, endpoint: this.endpoints.dynamodb, ...credentials });
    const s3 = new S3Client({ region: this.region, endpoint: this.endpoints.s3, forcePathStyle: true, ...credentials });
    try {
      const resources = this.stack.template.Resources;
      const workerQueueId = this.workerQueueLogicalId();
      for (const logicalId of this.creationOrder()) {
        const resource = resources[logicalId]!;
        if (resource.Type === 'AWS::SQS::Queue') await this.createQueue(sqs, logicalId, logicalId === workerQueueId);
        else if (resource.Type === 'AWS::DynamoDB::Table') await this.createTable(dynamodb, logicalId);
        else if (resource.Type === 'AWS::S3::Bucket') await this.createBucket(s3, logicalId);
      }
      return this.describe();
    } finally {
      sqs.destroy();
      dynamodb.destroy();
      s3.destroy();
    }
  }

  private scope(): ResolutionScope {
    return { stack: this.stack, region: this.region, accountId: this.accountId, resources: this.created };
  }

  /** The created resources, dead-letter queues before the queues that redrive to them. */
  private creationOrder(): string[] {
    const resources = this.stack.template.Resources;
    const order: string[] = [];
    const visiting = new Set<string>();
    const visit = (logicalId: string) => {
      if (order.includes(logicalId) || visiting.has(logicalId)) return;
      visiting.add(logicalId);
      const resource = resources[logicalId]!;
      for (const dependency of referencedLogicalIds(resource.Properties ?? {})) {
        if (resources[dependency] && CREATED_TYPES.has(resources[dependency].Type)) visit(dependency);
      }
      order.push(logicalId);
    };
    for (const [logicalId, resource] of Object.entries(resources)) if (CREATED_TYPES.has(resource.Type)) visit(logicalId);
    return order;
  }

  /** The queue the fanout worker's event source mapping polls (for the overrides). */
  private workerQueueLogicalId(): string | undefined {
    for (const resource of Object.values(this.stack.template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      const [queueId] = referencedLogicalIds(resource.Properties?.EventSourceArn);
      const [functionId] = referencedLogicalIds(resource.Properties?.FunctionName);
      const fn = functionId === undefined ? undefined : this.stack.template.Resources[functionId];
      const variables = (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      if (queueId && variables && 'FANOUT_QUEUE_URL' in variables && variables.FANOUT_FUNCTION !== API_FUNCTION_MARKER) {
        return queueId;
      }
    }
    return undefined;
  }

  private name(logicalId: string, maxLength: number, lowerCase = false): string {
    let name = `${this.prefix}-${logicalId}`;
    if (name.length > maxLength) {
      const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
      name = `${name.slice(0, maxLength - 9)}-${hash}`;
    }
    return lowerCase ? name.toLowerCase() : name;
  }

  private async createQueue(sqs: SQSClient, logicalId: string, isWorkerQueue: boolean): Promise<void> {
    const where = `Resources.${logicalId}.Properties`;
    const properties = this.stack.template.Resources[logicalId]!.Properties ?? {};
    const fifo = properties.FifoQueue === true || properties.FifoQueue === 'true';
    const queueName =
      properties.QueueName !== undefined
        ? resolveString(properties.QueueName, this.scope(), `${where}.QueueName`)
        : `${this.name(logicalId, fifo ? 75 : 80)}${fifo ? '.fifo' : ''}`;
    const attributes: Record<string, string> = {};
    for (const key of QUEUE_ATTRIBUTES) {
      if (properties[key] === undefined) continue;
      const value = resolveIntrinsics(properties[key], this.scope(), `${where}.${key}`);
      if (value !== undefined) attributes[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
    const visibility = this.options.overrides?.visibilityTimeoutSeconds;
    if (isWorkerQueue && visibility !== undefined) {
      this.overridden.push(`${logicalId} VisibilityTimeout: ${attributes.VisibilityTimeout ?? '30'} → ${visibility}`);
      attributes.VisibilityTimeout = String(visibility);
    }
    let queueUrl: string;
    try {
      queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }))).QueueUrl!;
    } catch (error) {
      // The queue is there with other attributes (an emulator kept running): bring it in line.
      if ((error as { name?: string }).name !== 'QueueNameExists' && (error as { name?: string }).name !== 'QueueAlreadyExists')
        throw error;
      queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl!;
      const { FifoQueue: _fifo, ...settable } = attributes;
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: settable }));
    }
    const actual: Record<string, string | undefined> =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
    const arn = actual.QueueArn ?? `arn:aws:sqs:${this.region}:${this.accountId}:${queueName}`;
    this.accountId = arn.split(':')[4] || this.accountId;
    // An emulator may accept an attribute and ignore it: compare with what it reports.
    const notApplied = Object.entries(attributes)
      .filter(([key, value]) => !sameAttribute(value, actual[key]))
      .map(([key, value]) => `${key} (${value}): the emulator does not report it, so it is not emulated`);
    for (const key of Object.keys(properties)) {
      if (key !== 'QueueName' && !(QUEUE_ATTRIBUTES as readonly string[]).includes(key)) notApplied.push(`${key}: not applied`);
    }
    this.visibilities.set(logicalId, Number(attributes.VisibilityTimeout ?? 30));
    this.created.set(logicalId, { ref: queueUrl, attributes: { Arn: arn, QueueName: queueName, QueueUrl: queueUrl } });
    this.records.push({ logicalId, type: 'AWS::SQS::Queue', physicalId: queueUrl, arn, notApplied });
  }

  private async createTable(dynamodb: DynamoDBClient, logicalId: string): Promise<void> {
    const where = `Resources.${logicalId}.Properties`;
    const properties = this.stack.template.Resources[logicalId]!.Properties ?? {};
    const tableName =
      properties.TableName !== undefined
        ? resolveString(properties.TableName, this.scope(), `${where}.TableName`)
        : this.name(logicalId, 255);
    const pick = (key: string) =>
      properties[key] === undefined ? {} : { [key]: resolveIntrinsics(properties[key], this.scope(), `${where}.${key}`) };
    const input = {
      TableName: tableName,
      ...pick('AttributeDefinitions'),
      ...pick('KeySchema'),
      ...pick('BillingMode'),
      ...pick('ProvisionedThroughput'),
      ...pick('GlobalSecondaryIndexes'),
      ...pick('LocalSecondaryIndexes'),
    } as CreateTableCommandInput;
    let arn: string | undefined;
    try {
      arn = (await dynamodb.send(new CreateTableCommand(input))).TableDescription?.TableArn;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
      const existing = (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
      if (JSON.stringify(existing?.KeySchema) !== JSON.stringify(input.KeySchema)) {
        throw new StackTemplateError(
          `The table '${tableName}' (${logicalId}) exists in the emulator with the key schema ${JSON.stringify(existing?.KeySchema)}, ` +
            `not the template's ${JSON.stringify(input.KeySchema)}. Restart the emulators or choose another name prefix.`,
          this.stack.path,
        );
      }
      arn = existing?.TableArn;
    }
    arn ??= `arn:aws:dynamodb:${this.region}:${this.accountId}:table/${tableName}`;
    const notApplied: string[] = [];
    const ttl = properties.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    if (ttl?.Enabled && ttl.AttributeName) {
      try {
        await dynamodb.send(
          new UpdateTimeToLiveCommand({
            TableName: tableName,
            TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
          }),
        );
      } catch (error) {
        // dynalite has no UpdateTimeToLive: items carry their expiry, nothing deletes them.
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        notApplied.push(
          `TimeToLiveSpecification (${ttl.AttributeName}): the emulator refused UpdateTimeToLive (${reason}); expired items stay`,
        );
      }
    }
    for (const key of Object.keys(properties)) if (!TABLE_PROPERTIES.includes(key)) notApplied.push(`${key}: not applied`);
    this.created.set(logicalId, { ref: tableName, attributes: { Arn: arn } });
    this.records.push({ logicalId, type: 'AWS::DynamoDB::Table', physicalId: tableName, arn, notApplied });
  }

  private async createBucket(s3: S3Client, logicalId: string): Promise<void> {
    const where = `Resources.${logicalId}.Properties`;
    const properties = this.stack.template.Resources[logicalId]!.Properties ?? {};
    const bucket =
      properties.BucketName !== undefined
        ? resolveString(properties.BucketName, this.scope(), `${where}.BucketName`)
        : this.name(logicalId, 63, true);
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
    const arn = `arn:aws:s3:::${bucket}`;
    // Encryption, lifecycle, logging, ownership and public access blocks are bucket settings
    // the emulator's S3 has no API for; the bucket itself is all the aws backend needs.
    const notApplied = Object.keys(properties)
      .filter((key) => key !== 'BucketName')
      .map((key) => `${key}: not applied (only the bucket is created)`);
    this.created.set(logicalId, {
      ref: bucket,
      attributes: {
        Arn: arn,
        DomainName: `${bucket}.s3.amazonaws.com`,
        RegionalDomainName: `${bucket}.s3.${this.region}.amazonaws.com`,
      },
    });
    this.records.push({ logicalId, type: 'AWS::S3::Bucket', physicalId: bucket, arn, notApplied });
  }

  private describe(): ProvisionedStack {
    const scope = this.scope();
    const timeout = this.options.overrides?.functionTimeoutSeconds;
    const functions = describeFunctions(scope, (logicalId) => this.name(logicalId, 64)).map((fn) => {
      if (timeout === undefined || !('FANOUT_QUEUE_URL' in fn.environment) || isApiFunction(fn)) return fn;
      this.overridden.push(`${fn.logicalId} Timeout: ${fn.timeoutSeconds} → ${timeout}`);
      return { ...fn, timeoutSeconds: timeout };
    });
    for (const fn of functions) this.created.set(fn.logicalId, { ref: fn.functionName, attributes: { Arn: fn.functionArn } });
    const eventSources = describeSqsEventSources(scope, functions, (queue) => this.visibilities.get(queue) ?? 30);
    const api = this.describeApi(functions);
    const described = new Set([
      ...functions.map((fn) => fn.logicalId),
      ...eventSources.map((source) => source.logicalId),
      ...(api ? [api.urlLogicalId] : []),
    ]);
    const skipped = Object.entries(this.stack.template.Resources)
      .filter(([logicalId, resource]) => !CREATED_TYPES.has(resource.Type) && !described.has(logicalId))
      .map(([logicalId, resource]) => ({ logicalId, type: resource.Type }));
    const outputs: Record<string, string> = {};
    for (const [name, output] of Object.entries(this.stack.template.Outputs ?? {})) {
      try {
        outputs[name] = resolveString(output.Value, scope, `Outputs.${name}.Value`);
      } catch (error) {
        if (!(error instanceof StackTemplateError)) throw error; // an output about something not emulated
      }
    }
    // Both the worker and the API name the task queue; the worker is the one its trigger invokes.
    const triggered = (fn: LambdaFunctionSpec) => eventSources.some((source) => source.functionLogicalId === fn.logicalId);
    const workerFunction = functions.find((fn) => 'FANOUT_QUEUE_URL' in fn.environment && !isApiFunction(fn) && triggered(fn));
    const workerSource = eventSources.find((source) => source.functionLogicalId === workerFunction?.logicalId);
    if (!workerFunction || !workerSource) {
      throw new StackTemplateError(
        `${this.stack.path} is not a fanout stack: no Lambda function with FANOUT_QUEUE_URL in its environment and an SQS event source mapping.`,
        this.stack.path,
      );
    }
    const env = workerFunction.environment;
    const deadLetterQueueUrl = outputs[STACK_OUTPUTS.deadLetterQueueUrl] ?? this.deadLetterQueueOf(workerSource.queueLogicalId);
    const config: AwsConfig = {
      region: outputs[STACK_OUTPUTS.region] ?? this.region,
      queueUrl: outputs[STACK_OUTPUTS.queueUrl] ?? env.FANOUT_QUEUE_URL!,
      deadLetterQueueUrl,
      table: outputs[STACK_OUTPUTS.table] ?? env.FANOUT_TABLE ?? '',
      bucket: outputs[STACK_OUTPUTS.bucket] ?? env.FANOUT_BUCKET ?? '',
      retentionSeconds: env.FANOUT_RETENTION_SECONDS ? Number(env.FANOUT_RETENTION_SECONDS) : DEFAULT_RETENTION_SECONDS,
      endpoints: { ...this.endpoints },
    };
    if (!config.table || !config.bucket) {
      throw new StackTemplateError(
        `${this.stack.path}: the fanout worker '${workerFunction.logicalId}' has no FANOUT_TABLE or FANOUT_BUCKET and the stack has no TableName or BucketName output.`,
        this.stack.path,
      );
    }
    return {
      stackName: this.stack.stackName,
      templatePath: this.stack.path,
      region: this.region,
      config,
      outputs,
      resources: [...this.records],
      skipped,
      functions,
      eventSources,
      worker: { function: workerFunction, eventSource: workerSource },
      api,
      overridden: [...this.overridden],
    };
  }

  /** The function marked as fanout's API and its Function URL; none when no function is marked. */
  private describeApi(functions: readonly LambdaFunctionSpec[]): ProvisionedApi | undefined {
    const marked = functions.filter(isApiFunction);
    if (marked.length === 0) return undefined;
    if (marked.length > 1) {
      throw new StackTemplateError(
        `${this.stack.path} has ${marked.length} functions marked as fanout's API (FANOUT_FUNCTION=api): ` +
          `${marked.map((fn) => fn.logicalId).join(', ')}; a fanout stack has one.`,
        this.stack.path,
      );
    }
    const fn = marked[0]!;
    const urls = Object.entries(this.stack.template.Resources).filter(
      ([, resource]) =>
        resource.Type === 'AWS::Lambda::Url' && referencedLogicalIds(resource.Properties?.TargetFunctionArn)[0] === fn.logicalId,
    );
    if (urls.length !== 1) {
      throw new StackTemplateError(
        `${this.stack.path}: fanout's API function '${fn.logicalId}' has ${urls.length} Function URLs (AWS::Lambda::Url); ` +
          'the Fanout construct gives it one.',
        this.stack.path,
      );
    }
    const [urlLogicalId, url] = urls[0]!;
    const authType = url.Properties?.AuthType;
    if (authType !== 'AWS_IAM' && authType !== 'NONE') {
      throw new StackTemplateError(
        `Resources.${urlLogicalId}.Properties.AuthType must be AWS_IAM or NONE; got ${JSON.stringify(authType)}.`,
        this.stack.path,
      );
    }
    return { function: fn, urlLogicalId, authType };
  }

  private deadLetterQueueOf(queueLogicalId: string): string | undefined {
    const redrive = this.stack.template.Resources[queueLogicalId]?.Properties?.RedrivePolicy;
    const [deadLetterId] = referencedLogicalIds(redrive);
    return deadLetterId === undefined ? undefined : this.created.get(deadLetterId)?.ref;
  }
}

function isApiFunction(fn: LambdaFunctionSpec): boolean {
  return fn.environment.FANOUT_FUNCTION === API_FUNCTION_MARKER;
}

/** Attribute values as SQS reports them: a redrive policy's count comes back as a number or a string. */
function sameAttribute(wanted: string, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (wanted === actual) return true;
  try {
    const a = JSON.parse(wanted) as Record<string, unknown>;
    const b = JSON.parse(actual) as Record<string, unknown>;
    return (
      typeof a === 'object' &&
      typeof b === 'object' &&
      Object.keys(a).length === Object.keys(b).length &&
      Object.keys(a).every((key) => String(a[key]) === String(b[key]))
    );
  } catch {
    return false;
  }
}

/**
 * Reads a synthesized template and creates its resources on the emulators; see
 * {@link StackProvisioner}. Returns the clients' {@link AwsConfig}, the worker function and its
 * event source mapping, and the API function with its Function URL's auth type, for
 * {@link LambdaRunner}s.
 *
 * @example
 * ```ts
 * const emulators = await startEmulators();
 * const stack = await provisionStack('cdk.out/Fanout.template.json', emulators.endpoints, { name: 'dev' });
 * const runner = new LambdaRunner(stack.worker.function, { config: stack.config, eventSource: stack.worker.eventSource });
 * await runner.start();
 * ```
 */
export async function provisionStack(
  template: string | StackTemplate,
  endpoints: EmulatorEndpoints,
  options: ProvisionStackOptions = {},
): Promise<ProvisionedStack> {
  const stack = typeof template === 'string' ? readStackTemplate(template) : template;
  return new StackProvisioner(stack, endpoints, options).provision();
}

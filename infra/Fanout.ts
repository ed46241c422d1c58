import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { InvalidArgumentError } from '../lib/errors.js';

/**
 * The worker handler beside this construct: the TypeScript source in a checkout of fanout, the
 * compiled module in the npm package (`dist/functions/worker/handler.js`).
 */
const DEFAULT_ENTRY = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../functions/worker/handler.ts' : '../functions/worker/handler.js', import.meta.url),
);

/** The largest message SQS accepts (1 MiB); set explicitly because the queue default has changed over time. */
const MAX_MESSAGE_SIZE_BYTES = 1_048_576;
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
const LAMBDA_MAX_TIMEOUT_SECONDS = 15 * 60;
const DAY_SECONDS = 24 * 60 * 60;

/** The wildcard action families `Bucket.grantReadWrite` grants; cdk-nag's IAM5 reports each. */
const BUCKET_READ_WRITE_ACTION_FAMILIES = ['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'];

/**
 * Lets an ESM bundle load CommonJS dependencies that call `require` (esbuild's ESM output has
 * no `require` of its own). No `$` or backticks: CDK passes it to esbuild through a shell.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __fanoutCreateRequire } from 'node:module'; const require = __fanoutCreateRequire(import.meta.url);";

/**
 * The CDK feature flags the construct's resources rely on (for example, access logs delivered
 * under a bucket policy, which a bucket with ACLs disabled requires).
 */
const FEATURE_FLAGS = {
  '@aws-cdk/aws-iam:minimizePolicies': true,
  '@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:publicAccessBlockedByDefault': true,
  '@aws-cdk/core:enablePartitionLiterals': true,
} as const;

/** Properties of the {@link Fanout} construct. */
export interface FanoutProps {
  /**
   * Paths of the modules that define your tasks (`task(name, fn)`). They are bundled into the
   * worker and imported, for their side effects, before the handler: that registers the tasks.
   * Relative paths are resolved against the current working directory.
   */
  readonly taskModules: string[];

  /**
   * Memory of the worker Lambda in MB, from 128 to 10,240. Lambda gives one vCPU per 1,769 MB,
   * and the worker sizes its thread pool from this setting.
   *
   * @default 1769 (one vCPU)
   */
  readonly workerMemoryMb?: number;

  /**
   * Instruction set of the worker Lambda.
   *
   * @default lambda.Architecture.ARM_64 (cheaper per GB-second than x86_64)
   */
  readonly architecture?: lambda.Architecture;

  /**
   * Timeout of one worker invocation (one batch of chunks), whole seconds from 1 s to 15 min.
   *
   * @default Duration.minutes(5)
   */
  readonly workerTimeout?: Duration;

  /**
   * Visibility timeout of the task queue: how long a received chunk stays hidden before it is
   * redelivered. At least 6 × `workerTimeout` (AWS's advice for a Lambda consumer, so a retried
   * batch does not reappear while it still runs) and at most 12 hours.
   *
   * @default 6 × workerTimeout
   */
  readonly visibilityTimeout?: Duration;

  /**
   * Messages (chunks) per worker invocation, from 1 to 10.
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * Most worker invocations the SQS event source runs at once, from 2 to 1,000 (the limits of
   * the event source's `MaximumConcurrency`).
   *
   * @default 100
   */
  readonly maxConcurrency?: number;

  /**
   * Deliveries of a chunk before it moves to the dead-letter queue, from 5 (AWS's minimum advice
   * for a Lambda consumer: throttled polls count as receives) to 1,000.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * How long results and payloads live: the TTL the worker stamps on table items
   * (`FANOUT_RETENTION_SECONDS`) and the payload bucket's object expiry (rounded up to whole
   * days, at least one). Whole seconds from 1 hour to 365 days.
   *
   * @default Duration.days(1)
   */
  readonly retention?: Duration;

  /**
   * The worker handler module: it must export `handler`.
   *
   * @default fanout's own worker handler (`fanout/lambda`)
   */
  readonly entry?: string;

  /**
   * The project root esbuild bundles from: it holds the lock file and `node_modules` (with
   * `esbuild` installed), and the construct writes its generated bundle entry under
   * `<projectRoot>/cdk.out/`.
   *
   * @default the current working directory (where `cdk` runs: your project)
   */
  readonly projectRoot?: string;
}

/** {@link FanoutProps} with every default filled in and checked. */
interface ResolvedProps {
  taskModules: string[];
  workerMemoryMb: number;
  architecture: lambda.Architecture;
  workerTimeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  batchSize: number;
  maxConcurrency: number;
  maxReceiveCount: number;
  retentionSeconds: number;
  entry: string;
  projectRoot: string;
  depsLockFilePath: string;
}

/**
 * The AWS resources of fanout's aws backend: the task queue and its dead-letter queue, the
 * DynamoDB table for jobs, results and shared state, the S3 bucket for payloads too big for a
 * message, and the worker Lambda that consumes the queue. Permissions are granted through
 * typed grant methods only, scoped to these resources.
 *
 * @example
 * ```ts
 * import { App, Duration, Stack } from 'aws-cdk-lib';
 * import { Fanout } from './infra/Fanout.js';
 *
 * const stack = new Stack(new App(), 'MyStack');
 * const fanout = new Fanout(stack, 'Fanout', {
 *   taskModules: ['src/tasks.ts'],
 *   workerMemoryMb: 3538, // two vCPUs
 *   workerTimeout: Duration.minutes(2),
 * });
 * fanout.grantClient(myRole);
 * ```
 */
export class Fanout extends Construct {
  /** The task queue: one message per chunk of calls. */
  public readonly queue: sqs.Queue;
  /** Chunks that failed `maxReceiveCount` deliveries (poison chunks) land here. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Jobs, results and shared state (`pk`/`sk` strings, TTL attribute `expiresAt`). */
  public readonly table: dynamodb.Table;
  /** Arguments and results too big for a message (claim checks). */
  public readonly bucket: s3.Bucket;
  /** The payload bucket's server access logs. */
  public readonly accessLogBucket: s3.Bucket;
  /** The worker Lambda, triggered by the task queue. */
  public readonly workerFunction: NodejsFunction;
  /** The worker's logs, kept one month. */
  public readonly workerLogGroup: logs.LogGroup;
  /** The path of the generated bundle entry (imports the task modules, re-exports the handler). */
  public readonly bundleEntry: string;

  constructor(scope: Construct, id: string, props: FanoutProps) {
    super(scope, id);
    // The resources below are designed and tested under these feature flags; set on this
    // construct, they hold in any app, whatever its cdk.json says.
    for (const [flag, value] of Object.entries(FEATURE_FLAGS)) this.node.setContext(flag, value);
    const config = resolveProps(props);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    });

    this.queue = new sqs.Queue(this, 'TaskQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
      visibilityTimeout: Duration.seconds(config.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: config.maxReceiveCount },
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Transient job state only: nothing here outlives `retention`.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(90) }],
      // Access logs are audit records: they outlive the stack (and expire by lifecycle). Deleting
      // a non-empty bucket would also fail the stack's deletion.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the destination of the payload bucket access logs; logging its own access would log the log writes.',
    });

    this.bucket = new s3.Bucket(this, 'PayloadBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'payloads/',
      lifecycleRules: [
        {
          id: 'ExpirePayloads',
          expiration: Duration.days(Math.max(1, Math.ceil(config.retentionSeconds / DAY_SECONDS))),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Payloads are transient claim checks that expire by lifecycle. No autoDeleteObjects: it
      // would add a custom-resource Lambda with broad S3 rights to every stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.workerLogGroup = new logs.LogGroup(this, 'WorkerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // An explicit role instead of the default one, which would attach the managed
    // AWSLambdaBasicExecutionRole (log writes to every log group of the account).
    const role = new iam.Role(this, 'WorkerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'fanout worker: consumes the task queue, reads and writes the job table and payload bucket',
    });
    this.workerLogGroup.grantWrite(role);

    this.bundleEntry = writeBundleEntry(config);
    this.workerFunction = new NodejsFunction(this, 'Worker', {
      entry: this.bundleEntry,
      handler: 'handler',
      projectRoot: config.projectRoot,
      depsLockFilePath: config.depsLockFilePath,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: config.architecture,
      memorySize: config.workerMemoryMb,
      timeout: Duration.seconds(config.workerTimeoutSeconds),
      role,
      logGroup: this.workerLogGroup,
      description: 'fanout worker: runs chunks of task calls from the task queue',
      environment: {
        FANOUT_TABLE: this.table.tableName,
        FANOUT_QUEUE_URL: this.queue.queueUrl,
        FANOUT_BUCKET: this.bucket.bucketName,
        FANOUT_RETENTION_SECONDS: String(config.retentionSeconds),
        FANOUT_WORKER_MEMORY_MB: String(config.workerMemoryMb),
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        banner: ESM_REQUIRE_BANNER,
        // Bundle with the esbuild installed in node_modules: no Docker needed, works offline.
        forceDockerBundling: false,
      },
    });

    this.table.grantReadWriteData(this.workerFunction);
    this.bucket.grantReadWrite(this.workerFunction);
    // The event source grants the function the queue's consume actions.
    this.workerFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: config.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: config.maxConcurrency,
      }),
    );

    const bucketLogicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    const grantFindings = [
      ...BUCKET_READ_WRITE_ACTION_FAMILIES.map((a) => `Action::${a}`),
      `Resource::<${bucketLogicalId}.Arn>/*`,
    ];
    for (const finding of grantFindings) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason:
          'From Bucket.grantReadWrite, scoped to this stack: the worker reads and writes payload objects under keys generated ' +
          'per job (so any key of the payload bucket), with the action families that grant method uses.',
      });
    }
    Validations.of(this.workerFunction).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned on purpose to nodejs22.x, the runtime the worker bundle is built for (esbuild target node22) and tested on; ' +
        'a runtime upgrade is a deliberate change, not a drift.',
    });
  }

  /**
   * Grants what a fanout client (the program that calls `pool.map`) needs: send chunks to the
   * task queue, read and write the table and payload bucket, and read the dead-letter queue to
   * detect poison chunks of its jobs (and remove them once it has failed the job).
   * Under cdk-nag, acknowledge AwsSolutions-IAM5 for the S3 action families on the grantee,
   * as this construct does for its worker role.
   *
   * @example
   * ```ts
   * fanout.grantClient(ciRole);
   * ```
   */
  public grantClient(grantee: iam.IGrantable): iam.Grant {
    return this.queue
      .grantSendMessages(grantee)
      .combine(this.table.grantReadWriteData(grantee))
      .combine(this.bucket.grantReadWrite(grantee))
      .combine(this.deadLetterQueue.grantConsumeMessages(grantee));
  }

  /**
   * Grants what a self-hosted worker fleet (`fanout worker` on your own machines or
   * containers) needs: consume the task queue, read and write the table and payload bucket.
   * Under cdk-nag, acknowledge AwsSolutions-IAM5 for the S3 action families on the grantee.
   *
   * @example
   * ```ts
   * fanout.grantWorker(ecsTaskRole);
   * ```
   */
  public grantWorker(grantee: iam.IGrantable): iam.Grant {
    return this.queue
      .grantConsumeMessages(grantee)
      .combine(this.table.grantReadWriteData(grantee))
      .combine(this.bucket.grantReadWrite(grantee));
  }
}

/** Fills in defaults and checks every prop, naming the prop, its value and what is allowed. */
function resolveProps(props: FanoutProps): ResolvedProps {
  if (props === null || typeof props !== 'object') {
    throw new InvalidArgumentError('Fanout props', props, 'an object with at least taskModules');
  }
  const workerMemoryMb = integerIn('workerMemoryMb', props.workerMemoryMb ?? 1769, 128, 10_240);
  const architecture = props.architecture ?? lambda.Architecture.ARM_64;
  if (architecture.name !== lambda.Architecture.ARM_64.name && architecture.name !== lambda.Architecture.X86_64.name) {
    throw new InvalidArgumentError('Fanout props.architecture', architecture.name, 'Architecture.ARM_64 or Architecture.X86_64');
  }
  const workerTimeoutSeconds = seconds(
    'workerTimeout',
    props.workerTimeout ?? Duration.minutes(5),
    1,
    LAMBDA_MAX_TIMEOUT_SECONDS,
    '15 minutes is the Lambda maximum',
  );
  const minVisibility = 6 * workerTimeoutSeconds;
  const visibilityTimeoutSeconds = seconds(
    'visibilityTimeout',
    props.visibilityTimeout ?? Duration.seconds(minVisibility),
    minVisibility,
    MAX_VISIBILITY_SECONDS,
    'at least 6 × workerTimeout, at most 12 hours, the SQS maximum',
  );
  const batchSize = integerIn('batchSize', props.batchSize ?? 10, 1, 10);
  const maxConcurrency = integerIn('maxConcurrency', props.maxConcurrency ?? 100, 2, 1000);
  const maxReceiveCount = integerIn('maxReceiveCount', props.maxReceiveCount ?? 5, 5, 1000);
  const retentionSeconds = seconds(
    'retention',
    props.retention ?? Duration.days(1),
    60 * 60,
    365 * DAY_SECONDS,
    'from 1 hour to 365 days',
  );

  if (!Array.isArray(props.taskModules) || props.taskModules.length === 0) {
    throw new InvalidArgumentError(
      'Fanout props.taskModules',
      props.taskModules,
      'a non-empty array of paths of task modules',
      'The worker imports them to register your tasks.',
    );
  }
  const taskModules: string[] = [];
  props.taskModules.forEach((module, i) => {
    const path = existingFile(`taskModules[${i}]`, module);
    if (!taskModules.includes(path)) taskModules.push(path);
  });
  const entry = existingFile('entry', props.entry ?? DEFAULT_ENTRY);

  const projectRoot = resolve(props.projectRoot ?? process.cwd());
  if (!existsSync(projectRoot) || !statSync(projectRoot).isDirectory()) {
    throw new InvalidArgumentError('Fanout props.projectRoot', props.projectRoot, 'an existing directory');
  }
  const lockFiles = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb'];
  const lockFile = lockFiles.map((name) => join(projectRoot, name)).find((path) => existsSync(path));
  if (lockFile === undefined) {
    throw new InvalidArgumentError(
      'Fanout props.projectRoot',
      projectRoot,
      `a directory holding a lock file (${lockFiles.join(', ')})`,
      'esbuild bundles the worker from there.',
    );
  }
  requireEsbuild(projectRoot);
  return {
    taskModules,
    workerMemoryMb,
    architecture,
    workerTimeoutSeconds,
    visibilityTimeoutSeconds,
    batchSize,
    maxConcurrency,
    maxReceiveCount,
    retentionSeconds,
    entry,
    projectRoot,
    depsLockFilePath: lockFile,
  };
}

/**
 * Checks that esbuild can be found from the project root, as the CDK looks for it: without it,
 * the CDK falls back to bundling in Docker, which fails with an error that does not say why.
 */
function requireEsbuild(projectRoot: string): void {
  try {
    createRequire(join(projectRoot, 'package.json')).resolve('esbuild');
  } catch {
    throw new InvalidArgumentError(
      'Fanout props.projectRoot',
      projectRoot,
      'a project with esbuild installed',
      'The Fanout construct bundles the worker with esbuild, on this machine (no Docker): npm install --save-dev esbuild.',
    );
  }
}

function integerIn(prop: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || Token.isUnresolved(value) || value < min || value > max) {
    throw new InvalidArgumentError(`Fanout props.${prop}`, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

/** A Duration as whole seconds within [min, max]; the error reports the value in seconds. */
function seconds(prop: string, value: unknown, min: number, max: number, limits: string): number {
  if (!(value instanceof Duration)) {
    throw new InvalidArgumentError(`Fanout props.${prop}`, value, 'a Duration (from aws-cdk-lib)');
  }
  if (value.isUnresolved()) {
    throw new InvalidArgumentError(`Fanout props.${prop}`, value.toString(), 'a concrete Duration, not a token');
  }
  const s = value.toSeconds({ integral: false });
  if (!Number.isInteger(s) || s < min || s > max) {
    throw new InvalidArgumentError(
      `Fanout props.${prop} (in seconds)`,
      s,
      `whole seconds from ${min} to ${max} (${limits})`,
      `That is ${value.toHumanString()}.`,
    );
  }
  return s;
}

function existingFile(prop: string, path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError(`Fanout props.${prop}`, path, 'a non-empty path string');
  }
  const absolute = isAbsolute(path) ? path : resolve(process.cwd(), path);
  if (!existsSync(absolute) || !statSync(absolute).isFile()) {
    // The error message shortens long values: name the full path in the hint.
    const hint =
      absolute !== path
        ? `It resolves to ${absolute} (relative paths are from the working directory).`
        : path.length > 60
          ? `The path: ${path}.`
          : undefined;
    throw new InvalidArgumentError(`Fanout props.${prop}`, path, 'the path of an existing file', hint);
  }
  return absolute;
}

/**
 * Writes the worker's bundle entry: it imports each task module for its side effects (ES
 * modules evaluate in import order, so every task is registered before the handler module
 * runs) and re-exports the handler. The content depends only on the absolute paths, and the
 * file is named after its content hash, so synths are deterministic and constructs that share
 * a project root never overwrite each other's entry.
 */
function writeBundleEntry(config: ResolvedProps): string {
  const lines = [
    '// Generated by the Fanout construct (infra/Fanout.ts) at synth time. Do not edit.',
    '// Task modules first, for their side effects: importing one registers its tasks.',
    ...config.taskModules.map((module) => `import ${JSON.stringify(module)};`),
    `export { handler } from ${JSON.stringify(config.entry)};`,
    '',
  ];
  const content = lines.join('\n');
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 16);
  // Under the project root (NodejsFunction requires its entry there), in cdk.out, which is
  // ignored by git, the linters and the type checker.
  const dir = join(config.projectRoot, 'cdk.out', 'fanout-worker-entries');
  const path = join(dir, `entry-${hash}.mjs`);
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return path;
  mkdirSync(dir, { recursive: true });
  // Write then rename: concurrent synths (parallel test files) never see a half-written file.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
  return path;
}

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Duration, Fn, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { InvalidArgumentError, ValueError } from '../lib/errors.js';

/**
 * A handler beside this construct: the TypeScript source in a checkout of fanout, the compiled
 * module in the npm package (`dist/functions/<name>/handler.js`).
 */
function packagedHandler(name: 'worker' | 'api'): string {
  const file = import.meta.url.endsWith('.ts') ? 'handler.ts' : 'handler.js';
  return fileURLToPath(new URL(`../functions/${name}/${file}`, import.meta.url));
}
const DEFAULT_ENTRY = packagedHandler('worker');
const DEFAULT_API_ENTRY = packagedHandler('api');

/**
 * What the API function's environment sets `FANOUT_FUNCTION` to, so that a reader of the
 * template (the emulator's StackProvisioner) tells it from the worker: both name the task queue.
 */
export const API_FUNCTION_MARKER = 'api';
/**
 * The API Lambda's memory: it parses and validates a request body of up to 6 MB, encodes the
 * items and sends their chunks; it runs no task. 1,024 MB gives it about 0.6 vCPU for that.
 */
const API_MEMORY_MB = 1024;
/**
 * The API Lambda's timeout. A Function URL waits for its function up to the function's timeout
 * (no 30 s cap, as API Gateway's): 60 s covers a submit of a full 6 MB body (its chunks are sent
 * ten to a SendMessageBatch) with room, and bounds a stuck request.
 */
const API_TIMEOUT_SECONDS = 60;

/** The largest message SQS accepts (1 MiB); set explicitly because the queue default has changed over time. */
const MAX_MESSAGE_SIZE_BYTES = 1_048_576;
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
/** The most an SQS event source mapping may gather messages before it invokes (MaximumBatchingWindowInSeconds). */
const MAX_BATCHING_WINDOW_SECONDS = 300;
const LAMBDA_MAX_TIMEOUT_SECONDS = 15 * 60;
const DAY_SECONDS = 24 * 60 * 60;

/*
 * The permissions, action by action, as the code in lib/backends/aws/ sends them. Nothing is
 * granted for a call the code does not make.
 */

/**
 * The worker's task-queue actions. Lambda's event source polls with the function's role:
 * ReceiveMessage, DeleteMessage (also DeleteMessageBatch), GetQueueAttributes. The self-hosted
 * fleet (WorkerFleet.ts) sends the same, plus ChangeMessageVisibilityBatch to hand messages back
 * when it stops; in the Lambda, ChangeMessageVisibility releases a chunk it cannot finish before
 * its deadline and extends the visibility of a long one (issue 8, the deadline-aware handler).
 * A Process target (ProcessRunner) needs no other: its message stays hidden by
 * ChangeMessageVisibility(Batch) while it runs and is deleted like a chunk's when it ends.
 */
// SendMessage: a healthy chunk handed back near its last allowed receive goes back as a fresh
// copy; and a task on a worker may start a Process (ProcessStore.send, SendMessageBatch).
const WORKER_QUEUE_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
  'sqs:SendMessage',
];
/** ChunkProcessor → ResultTable: findSettled (BatchGetItem), putResult (a conditional PutItem). */
// UpdateItem: the crash count of a chunk whose thread died (ADD), so a poison chunk fails fast.
const WORKER_POOL_TABLE_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
/**
 * AwsPoolEngine → TaskQueue: sendBatch (SendMessageBatch is authorized as SendMessage), and
 * discoverDeadLetterQueue (GetQueueAttributes for the redrive policy) when `FANOUT_DLQ_URL` is unset.
 * Starting a Process (AwsProcess → ProcessStore.send) is a SendMessageBatch too.
 */
const CLIENT_QUEUE_ACTIONS = ['sqs:SendMessage', 'sqs:GetQueueAttributes'];
/** TaskQueue: receiveDeadLetters, deleteDeadLetter, and the dead-letter queue's GetQueueUrl in discovery. */
const CLIENT_DEAD_LETTER_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueUrl'];
/** AwsPoolEngine → ResultTable: putResult of a dead chunk and cancelRun (PutItem), cancelChunks (BatchWriteItem), queryResults (Query). */
const CLIENT_POOL_TABLE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:BatchWriteItem', 'dynamodb:Query'];
/**
 * The shared objects of `multiprocessing` on the table (the stores in lib/backends/aws/, items
 * keyed `obj#<kind>#<id>`). A program and a Pool task or Process target on a worker use them
 * alike (a handle passed as an argument revives there), so the client and the worker both get
 * every one of these.
 */
const SHARED_OBJECT_TABLE_ACTIONS = [
  // Reads, consistent: LeaseStore.read (Lock, RLock), SemaphoreStore.read, EventStore.read,
  // BarrierStore.read, CounterStore.get (Value), ConditionStore.present, QueueStore (the meta
  // item: size, unfinished tasks, closed ends), ProcessStore.read (exitCode, isAlive, join).
  'dynamodb:GetItem',
  // Conditional updates: lease acquire, renew and release (LeaseStore, SemaphoreStore holders),
  // EventStore set/clear, BarrierStore arrive/release/abort/reset, CounterStore add (ADD) and set,
  // QueueStore claims and meta counters, ProcessStore claim, renew, stop request and exit.
  'dynamodb:UpdateItem',
  // ConditionStore.register (a waiter's entry), QueueStore.putItem (one queued item).
  'dynamodb:PutItem',
  // ConditionStore.withdraw and notify (a waiter's entry, taken by the waiter or the notifier).
  'dynamodb:DeleteItem',
  // One object's partition: ConditionStore (the waiters), QueueStore (the head), CounterStore.elements (Array.loadAll).
  'dynamodb:Query',
  // CounterStore.getMany (the shards of a sharded Value, read to load it).
  'dynamodb:BatchGetItem',
  // ConditionStore.notifyAll (deletes), QueueStore (deletes of claimed items), CounterStore.setMany (a sharded Value's store).
  'dynamodb:BatchWriteItem',
];
const WORKER_TABLE_ACTIONS = union(WORKER_POOL_TABLE_ACTIONS, SHARED_OBJECT_TABLE_ACTIONS);
const CLIENT_TABLE_ACTIONS = union(CLIENT_POOL_TABLE_ACTIONS, SHARED_OBJECT_TABLE_ACTIONS);
/** PayloadStore.put: PutObject (also Create/UploadPart/CompleteMultipartUpload), AbortMultipartUpload on failure. */
const OBJECT_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'];
/** PayloadStore.get. */
const OBJECT_READ_ACTIONS = ['s3:GetObject'];
/**
 * The payload keys (lib/backends/aws/chunkMessages.ts): the client writes a chunk's arguments
 * and the worker reads them; the worker writes a chunk's results and the client reads them.
 */
const ARGUMENT_OBJECTS = 'runs/*/args/*';
const RESULT_OBJECTS = 'runs/*/results/*';
/**
 * Queue and Pipe items too big for a table item (QueueStore.putItem, `objects/<kind>/<id>/<part>`):
 * written by a put and read by a get, in a program or on a worker alike (both sides read and write).
 */
const SHARED_OBJECTS = 'objects/*';
/**
 * A Process's arguments too big for its message (AwsProcess, chunkMessages.processArgumentsKey:
 * `processes/<id>/args`): written by whoever starts it (a program, or a task on a worker), read
 * by the worker that runs it (ProcessRunner). A program never reads them.
 */
const PROCESS_ARGUMENT_OBJECTS = 'processes/*/args';
/**
 * Item lists of a POST /jobs too big for a request body, uploaded to S3 (`uploads/<id>`,
 * lib/http/api/S3ItemUploads.ts): the API presigns the upload (the URL carries the API role's
 * s3:PutObject), reads the items back when the job is submitted (s3:GetObject) and deletes the
 * upload once the job is made (s3:DeleteObject); the payload bucket's expiry removes unused ones.
 */
const UPLOAD_OBJECTS = 'uploads/*';

/**
 * The API function's actions, as the jobs API sends them (functions/api/handler.ts over the aws
 * JobService, lib/backends/aws/AwsJobService.ts). It submits a job as a Pool call does, reads its
 * state and results as a client does, and cancels it; it never receives a message, never runs a
 * task and never touches a shared object.
 */
const API_PERMISSIONS = {
  /**
   * Submit: the chunks of the job (SendMessageBatch, authorized as SendMessage). Nothing else: the
   * function's environment names the dead-letter queue (FANOUT_DLQ_URL), so its session does not
   * look it up (GetQueueAttributes on the task queue, then GetQueueUrl on the dead-letter queue).
   */
  queue: ['sqs:SendMessage'],
  /**
   * JobStore and ResultTable through AwsJobService: PutItem, a new job's record; GetItem, a job's
   * record (status, results, cancel); UpdateItem, a job's cancellation; Query, a job's chunk
   * records (its status, its results in input order a page at a time) and the list of jobs,
   * newest first. Measured by test/infra/grantsCoverRequests.test.ts: exactly these are sent.
   */
  table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
  /** Objects, by key pattern: chunk arguments out, chunk results in, uploaded item lists both ways. */
  objects: [
    { pattern: ARGUMENT_OBJECTS, actions: ['s3:PutObject', 's3:AbortMultipartUpload'] },
    { pattern: RESULT_OBJECTS, actions: ['s3:GetObject'] },
    { pattern: UPLOAD_OBJECTS, actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'] },
  ],
} as const;

/** Why each object key pattern (a resource with a wildcard, AwsSolutions-IAM5) is as it is. */
const OBJECT_PATTERN_REASONS: Record<string, string> = {
  [ARGUMENT_OBJECTS]:
    `The worker reads a chunk's arguments under keys made per run and chunk (${ARGUMENT_OBJECTS}), so the resource ` +
    'names the key pattern, not one key; the action is exact (s3:GetObject).',
  [RESULT_OBJECTS]:
    `The worker writes a chunk's results under keys made per run, chunk and attempt (${RESULT_OBJECTS}), so the resource ` +
    'names the key pattern, not one key; the actions are exact (s3:PutObject, s3:AbortMultipartUpload).',
  [SHARED_OBJECTS]:
    `A task's Queue or Pipe puts and gets big items under keys made per queue and item (${SHARED_OBJECTS}), so the ` +
    'resource names the key pattern, not one key; the actions are exact (s3:GetObject, s3:PutObject, s3:AbortMultipartUpload).',
  [PROCESS_ARGUMENT_OBJECTS]:
    `The worker reads a Process's big arguments, and a task writes those of a Process it starts, under keys made per ` +
    `process (${PROCESS_ARGUMENT_OBJECTS}), so the resource names the key pattern, not one key; the actions are exact ` +
    '(s3:GetObject, s3:PutObject, s3:AbortMultipartUpload).',
};
/** Why each object key pattern of the API role is as it is (AwsSolutions-IAM5). */
const API_OBJECT_PATTERN_REASONS: Record<string, string> = {
  [ARGUMENT_OBJECTS]:
    `The API writes a submitted job's chunk arguments under keys made per run and chunk (${ARGUMENT_OBJECTS}), so the ` +
    'resource names the key pattern, not one key; the actions are exact (s3:PutObject, s3:AbortMultipartUpload).',
  [RESULT_OBJECTS]:
    `The API reads a job's big chunk results under keys made per run, chunk and attempt (${RESULT_OBJECTS}), so the ` +
    'resource names the key pattern, not one key; the action is exact (s3:GetObject).',
  [UPLOAD_OBJECTS]:
    `The API presigns the upload of a big item list, reads it back and deletes it, under keys made per upload ` +
    `(${UPLOAD_OBJECTS}), so the resource names the key pattern, not one key; the actions are exact ` +
    '(s3:PutObject, s3:GetObject, s3:DeleteObject).',
};

/** The actions of both lists, each once, in order. */
function union(...lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

/**
 * Lets an ESM bundle load CommonJS dependencies that call `require` (esbuild's ESM output has
 * no `require` of its own). No `$` or backticks: CDK passes it to esbuild through a shell.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __fanoutCreateRequire } from 'node:module'; const require = __fanoutCreateRequire(import.meta.url);";

/** How both functions are bundled (the worker's and the API's). */
const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Minified names would reach callers and logs: a task's ValidationError as 'cn', fanout's
  // InvalidArgumentError as 'd'. Error names and `new.target.name` must survive bundling.
  keepNames: true,
  banner: ESM_REQUIRE_BANNER,
  // Bundle with the esbuild installed in node_modules: no Docker needed, works offline.
  forceDockerBundling: false,
};

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
   * Kept at 5 minutes: the worker is deadline-aware (it starts no chunk that cannot finish in
   * the time left, and hands back at once what it did not run), so the timeout bounds a single
   * chunk, not a batch; 5 minutes fits chunks of up to about 4.5 minutes (a longer one fails its
   * call with ChunkTooLongError after one attempt) while a handler stuck in synchronous code is
   * killed and its batch redelivered within one visibility timeout. Raise it for longer chunks.
   *
   * @default Duration.minutes(5)
   */
  readonly workerTimeout?: Duration;

  /**
   * Visibility timeout of the task queue: how long a received chunk stays hidden before it is
   * redelivered, whole seconds up to 12 hours (the SQS maximum). At least `workerTimeout`
   * (CreateEventSourceMapping refuses a queue whose visibility is shorter than the function's
   * timeout) and at least 2 × `maxBatchingWindow` (a batch may wait that long in the poller).
   *
   * 2 × `workerTimeout` by default, not AWS's general advice of 6 ×: the worker hands back what it
   * cannot finish before its deadline (visible again at once) and keeps a running chunk hidden
   * with heartbeats (visibility extensions), so no healthy chunk waits for, or outlives, the
   * visibility; a chunk whose thread died is released at once with a short back-off, so a poison
   * chunk fails its call in about 25 s whatever the visibility (measured at 1,800 s). What is left
   * to the visibility is a chunk of an environment killed hard (the function timeout, memory, a
   * crash of the runtime): it waits out the visibility before another environment runs it, and a
   * shorter visibility bounds that wait (10 minutes at the defaults, was 30).
   *
   * @default max(2 × workerTimeout, 2 × maxBatchingWindow)
   */
  readonly visibilityTimeout?: Duration;

  /**
   * Messages (chunks) per worker invocation, from 1 to 10. Kept at 10 (the most a standard
   * queue's receive returns without a batching window): one receive, one invocation and one
   * delete batch serve ten chunks, and the deadline-aware worker hands back the chunks of a batch
   * it has no time for, so a large batch no longer risks a timeout.
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long the event source gathers messages before it invokes the worker with fewer than
   * `batchSize`, whole seconds from 0 to 300 (Lambda's limit). Kept at 0: fanout's calls send
   * their chunks in batches of ten already, and any window is latency added to every call whose
   * chunks do not fill a batch (a single `apply` would wait it out).
   *
   * @default Duration.seconds(0)
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Most worker invocations the SQS event source runs at once, from 2 to 1,000 (the limits of
   * the event source's `MaximumConcurrency`).
   *
   * @default 100
   */
  readonly maxConcurrency?: number;

  /**
   * Deliveries of a chunk before it moves to the dead-letter queue, from 5 (AWS's minimum advice
   * for a Lambda consumer: throttled polls count as receives) to 1,000. Kept at 5: a chunk whose
   * thread dies is released with a back-off of 1, 2, 4 and 8 s, so five deliveries fail a poison
   * chunk's call in about 25 s; a chunk handed back at a deadline is sent again as a fresh copy
   * before its receive count nears this limit, so hand-backs never dead-letter a healthy chunk.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * What `cdk destroy` (or removing the construct) does with the table, the payload and
   * access-log buckets and the worker's log group. The queues are always deleted.
   *
   * - `'destroy'`: everything is deleted. Both buckets get `autoDeleteObjects`: a custom
   *   resource (one Lambda per stack, CDK's `Custom::S3AutoDeleteObjects` provider, allowed by
   *   each bucket's policy to list and delete its objects; its role has AWS's managed
   *   AWSLambdaBasicExecutionRole) denies new writes, then empties the bucket, so that the
   *   deletion succeeds. Job state and payloads are lost, which fanout
   *   does not mind: they expire after `retention` anyway; so are the payload bucket's access
   *   logs and the worker's logs.
   * - `'retain'`: the table, both buckets and the log group stay in the account after the
   *   stack is gone (`DeletionPolicy: Retain`), with no custom resource. Objects and items
   *   still expire (payloads after `retention`, access logs after 90 days, items by TTL), but
   *   the empty bucket, table and log group remain, and every new deployment of the stack makes
   *   new ones: delete the old ones by hand. Choose it to keep the access logs as audit records.
   *
   * The strings are the values of `RemovalPolicy.DESTROY` and `RemovalPolicy.RETAIN`, which
   * may be passed too.
   *
   * @default 'destroy' (fanout's state is transient, and a stack must come down cleanly)
   */
  readonly removal?: 'destroy' | 'retain';

  /**
   * An SNS topic told when an alarm of the construct fires ({@link Fanout.deadLetterAlarm},
   * {@link Fanout.workerErrorsAlarm}).
   *
   * @default no alarm action (the alarms are still created; see them in CloudWatch)
   */
  readonly alarmTopic?: sns.ITopic;

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
   * Whether the stack serves the jobs API: an API Lambda behind a Function URL with `AWS_IAM`
   * auth (see {@link Fanout.apiUrl} and {@link Fanout.grantInvokeApi}). Turn it off for a stack
   * used only by TypeScript programs holding the stack's resources: no HTTP entry point, one
   * function and role fewer.
   *
   * @default true
   */
  readonly api?: boolean;

  /**
   * The API handler module: it must export `handler` (a Function URL handler, payload format
   * 2.0). The task modules are imported before it, as for the worker, so that a job naming a task
   * no worker registered is refused at submit time.
   *
   * @default fanout's own API handler (`functions/api/handler`)
   */
  readonly apiEntry?: string;

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
  removal: 'destroy' | 'retain';
  alarmTopic: sns.ITopic | undefined;
  architecture: lambda.Architecture;
  workerTimeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  maxConcurrency: number;
  maxReceiveCount: number;
  retentionSeconds: number;
  entry: string;
  /** The API handler module; undefined when the API is off. */
  apiEntry: string | undefined;
  projectRoot: string;
  depsLockFilePath: string;
}

/**
 * The AWS resources of fanout's aws backend: the task queue and its dead-letter queue, the
 * DynamoDB table for jobs, results and shared state, the S3 bucket for payloads too big for a
 * message, the worker Lambda that consumes the queue, and the jobs API (a Lambda behind a
 * Function URL with `AWS_IAM` auth, unless `api: false`); alarms on dead letters and worker
 * errors. Every permission is an exact action the worker, the API or the client sends, on one of
 * these resources (see {@link Fanout.grantClient}, {@link Fanout.grantWorker} and
 * {@link Fanout.grantInvokeApi}).
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
 * fanout.grantInvokeApi(cronRole); // POST ${fanout.apiUrl}/jobs, signed
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
  /**
   * In alarm while a message is visible in the dead-letter queue (maximum of
   * `ApproximateNumberOfMessagesVisible` over a minute above 0): a chunk failed every delivery.
   */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /**
   * In alarm when a worker invocation failed in the last minute (sum of the function's `Errors`
   * above 0): the handler threw, timed out or ran out of memory, so its whole batch is redelivered.
   */
  public readonly workerErrorsAlarm: cloudwatch.Alarm;
  /** The path of the generated bundle entry (imports the task modules, re-exports the handler). */
  public readonly bundleEntry: string;
  /**
   * The jobs API Lambda (undefined with `api: false`): the same task modules as the worker,
   * imported before its handler; behind {@link Fanout.apiFunctionUrl}.
   */
  public readonly apiFunction: NodejsFunction | undefined;
  /**
   * The API's Function URL, `AWS_IAM` auth: every request must be SigV4-signed (service
   * `lambda`) by a principal allowed by {@link Fanout.grantInvokeApi}.
   *
   * Why a Function URL and not an API Gateway HTTP API with IAM auth: no other service to run,
   * pay and secure; request bodies up to 6 MB (API Gateway: 10 MB, but a 30 s integration
   * timeout, where a Function URL waits up to the function's timeout); no per-request API
   * Gateway fee (about $1.00 per million requests) on top of Lambda's. What an HTTP API would add
   * (custom domains, throttling per route, JWT authorizers) the jobs API does not need; put
   * CloudFront or API Gateway in front for those.
   */
  public readonly apiFunctionUrl: lambda.FunctionUrl | undefined;
  /**
   * The API's base URL without a trailing slash, e.g. `https://<id>.lambda-url.<region>.on.aws`:
   * append `/jobs`. Undefined with `api: false`. The stack's `ApiUrl` output.
   */
  public readonly apiUrl: string | undefined;
  /** The API's logs, kept one month (undefined with `api: false`). */
  public readonly apiLogGroup: logs.LogGroup | undefined;
  /** The path of the API's generated bundle entry (undefined with `api: false`). */
  public readonly apiBundleEntry: string | undefined;

  constructor(scope: Construct, id: string, props: FanoutProps) {
    super(scope, id);
    // The resources below are designed and tested under these feature flags; set on this
    // construct, they hold in any app, whatever its cdk.json says.
    for (const [flag, value] of Object.entries(FEATURE_FLAGS)) this.node.setContext(flag, value);
    const config = resolveProps(props);
    const destroy = config.removal === 'destroy';
    const removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

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
      removalPolicy,
    });

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(90) }],
      // Under 'destroy', emptied before deletion (a non-empty bucket fails the stack's deletion);
      // the auto-delete handler first denies new writes, so late log deliveries cannot refill it.
      removalPolicy,
      autoDeleteObjects: destroy,
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
      removalPolicy,
      autoDeleteObjects: destroy,
    });

    this.workerLogGroup = new logs.LogGroup(this, 'WorkerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });

    // An explicit role instead of the default one, which would attach the managed
    // AWSLambdaBasicExecutionRole (log writes to every log group of the account).
    const role = new iam.Role(this, 'WorkerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'fanout worker: consumes the task queue, reads and writes the job table and payload bucket',
    });
    this.workerLogGroup.grantWrite(role);

    this.bundleEntry = writeBundleEntry(config, config.entry);
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
        // Named, so that a session opened from this environment (a task's getContext('aws')) does
        // not look it up: GetQueueUrl is not the worker's to send.
        FANOUT_DLQ_URL: this.deadLetterQueue.queueUrl,
        FANOUT_BUCKET: this.bucket.bucketName,
        FANOUT_RETENTION_SECONDS: String(config.retentionSeconds),
        FANOUT_WORKER_MEMORY_MB: String(config.workerMemoryMb),
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: BUNDLING,
    });

    this.grantWorkerData(role);
    // Not SqsEventSource: it grants the function the queue's consume actions including
    // GetQueueUrl, which the worker never sends; WORKER_QUEUE_ACTIONS are granted above instead.
    // The id is the one SqsEventSource gives, so that the mapping's logical ID does not change
    // (Lambda refuses a second mapping of the same queue and function during a replacement).
    this.workerFunction.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`, {
      eventSourceArn: this.queue.queueArn,
      batchSize: config.batchSize,
      // Absent at 0: the template of the default stack stays as it was (0 is Lambda's default).
      ...(config.maxBatchingWindowSeconds > 0 ? { maxBatchingWindow: Duration.seconds(config.maxBatchingWindowSeconds) } : {}),
      reportBatchItemFailures: true,
      maxConcurrency: config.maxConcurrency,
    });

    const bucketLogicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    for (const [objects, reason] of Object.entries(OBJECT_PATTERN_REASONS)) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${objects}]`, reason });
    }
    Validations.of(this.workerFunction).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned on purpose to nodejs22.x, the runtime the worker bundle is built for (esbuild target node22) and tested on; ' +
        'a runtime upgrade is a deliberate change, not a drift.',
    });

    if (config.apiEntry !== undefined) {
      const api = this.createApi(config, config.apiEntry, removalPolicy, bucketLogicalId);
      this.apiFunction = api.fn;
      this.apiFunctionUrl = api.url;
      this.apiLogGroup = api.logGroup;
      this.apiBundleEntry = api.bundleEntry;
      // The URL ends with '/'; without it, `${apiUrl}/jobs` is the path /jobs (not //jobs).
      this.apiUrl = Fn.join('', ['https://', Fn.select(2, Fn.split('/', api.url.url))]);
    }

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'fanout: a chunk is in the dead-letter queue (it failed every delivery: its task crashes or outlasts the worker timeout)',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // An idle queue publishes no data points: that is no dead letters, not an alarm.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.workerErrorsAlarm = new cloudwatch.Alarm(this, 'WorkerErrorsAlarm', {
      alarmDescription:
        'fanout: a worker invocation failed (the handler threw, timed out or ran out of memory; its batch is redelivered)',
      metric: this.workerFunction.metricErrors({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (config.alarmTopic) {
      const action = new SnsAction(config.alarmTopic);
      this.deadLetterAlarm.addAlarmAction(action);
      this.workerErrorsAlarm.addAlarmAction(action);
    }
  }

  /**
   * Grants what a fanout client (the program that calls `pool.map`, starts a `Process` or uses a
   * lock, counter or queue) sends, and nothing else: on the task queue SendMessage and
   * GetQueueAttributes; on the dead-letter queue ReceiveMessage, DeleteMessage and GetQueueUrl
   * (it fails the chunks of its runs found there); on the table GetItem, UpdateItem, PutItem,
   * DeleteItem, Query, BatchGetItem and BatchWriteItem (results, and the shared objects: locks,
   * semaphores, events, conditions, barriers, values, arrays, queues, pipes, processes);
   * s3:PutObject and s3:AbortMultipartUpload on the payload bucket's `runs/<run>/args/…` and
   * `processes/<id>/args` objects, s3:GetObject on its `runs/<run>/results/…` objects, and all
   * three on its `objects/…` objects (big queue and pipe items); and
   * cloudformation:DescribeStacks on this stack (to read its outputs with `FANOUT_STACK`). Under
   * cdk-nag, acknowledge AwsSolutions-IAM5 on the grantee for the four object key patterns (the
   * wildcards of `runs/<run>/args/…`, `runs/<run>/results/…`, `objects/…` and `processes/<id>/args`),
   * as this construct does for its worker role.
   *
   * @example
   * ```ts
   * fanout.grantClient(ciRole);
   * ```
   */
  public grantClient(grantee: iam.IGrantable): iam.Grant {
    return this.queue
      .grant(grantee, ...CLIENT_QUEUE_ACTIONS)
      .combine(this.deadLetterQueue.grant(grantee, ...CLIENT_DEAD_LETTER_ACTIONS))
      .combine(this.table.grant(grantee, ...CLIENT_TABLE_ACTIONS))
      .combine(this.grantObjects(grantee, ARGUMENT_OBJECTS, OBJECT_WRITE_ACTIONS))
      .combine(this.grantObjects(grantee, RESULT_OBJECTS, OBJECT_READ_ACTIONS))
      .combine(this.grantObjects(grantee, SHARED_OBJECTS, [...OBJECT_READ_ACTIONS, ...OBJECT_WRITE_ACTIONS]))
      .combine(this.grantObjects(grantee, PROCESS_ARGUMENT_OBJECTS, OBJECT_WRITE_ACTIONS))
      .combine(this.grantDescribeStack(grantee));
  }

  /**
   * Grants `grantee` the right to call the jobs API: `lambda:InvokeFunctionUrl` on the API
   * function, on the condition `lambda:FunctionUrlAuthType` = `AWS_IAM`, and
   * `lambda:InvokeFunction` on the condition `lambda:InvokedViaFunctionUrl` = true (Function URLs
   * made since October 2025 need both; the condition keeps the grantee from invoking the function
   * other than through its URL). In the grantee's account an identity policy, else a Lambda
   * permission. The API itself holds the rights on the queue, table and bucket: the grantee needs
   * nothing else. Throws ValueError when the construct has no API (`api: false`).
   *
   * @example
   * ```ts
   * fanout.grantInvokeApi(cronRole);
   * ```
   */
  public grantInvokeApi(grantee: iam.IGrantable): iam.Grant {
    if (this.apiFunction === undefined) {
      throw new ValueError(
        `The Fanout construct '${this.node.path}' has no API (its props set api: false): there is nothing to grant. ` +
          'Remove api: false to serve the jobs API.',
      );
    }
    // CDK's grant gives both actions with their conditions (it returns the second grant only).
    return this.apiFunction.grantInvokeUrl(grantee);
  }

  /** The API function, its role, logs and Function URL. */
  private createApi(
    config: ResolvedProps,
    apiEntry: string,
    removalPolicy: RemovalPolicy,
    bucketLogicalId: string,
  ): { fn: NodejsFunction; url: lambda.FunctionUrl; logGroup: logs.LogGroup; bundleEntry: string } {
    const logGroup = new logs.LogGroup(this, 'ApiLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy });
    const role = new iam.Role(this, 'ApiRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'fanout jobs API: submits jobs to the task queue, reads their state and results',
    });
    logGroup.grantWrite(role);
    this.queue.grant(role, ...API_PERMISSIONS.queue);
    this.table.grant(role, ...API_PERMISSIONS.table);
    for (const { pattern, actions } of API_PERMISSIONS.objects) this.grantObjects(role, pattern, [...actions]);
    for (const [objects, reason] of Object.entries(API_OBJECT_PATTERN_REASONS)) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${objects}]`, reason });
    }

    const bundleEntry = writeBundleEntry(config, apiEntry);
    const fn = new NodejsFunction(this, 'Api', {
      entry: bundleEntry,
      handler: 'handler',
      projectRoot: config.projectRoot,
      depsLockFilePath: config.depsLockFilePath,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: config.architecture,
      memorySize: API_MEMORY_MB,
      timeout: Duration.seconds(API_TIMEOUT_SECONDS),
      role,
      logGroup,
      description: 'fanout jobs API: POST /jobs, GET /jobs/{id}, GET /jobs/{id}/results, DELETE /jobs/{id}',
      environment: {
        FANOUT_FUNCTION: API_FUNCTION_MARKER,
        FANOUT_TABLE: this.table.tableName,
        FANOUT_QUEUE_URL: this.queue.queueUrl,
        // Named, so that the API's session does not look it up (two requests it is not granted).
        FANOUT_DLQ_URL: this.deadLetterQueue.queueUrl,
        FANOUT_BUCKET: this.bucket.bucketName,
        FANOUT_RETENTION_SECONDS: String(config.retentionSeconds),
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: BUNDLING,
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned on purpose to nodejs22.x, the runtime the API bundle is built for (esbuild target node22) and tested on; ' +
        'a runtime upgrade is a deliberate change, not a drift.',
    });
    const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    return { fn, url, logGroup, bundleEntry };
  }

  /**
   * Grants what a self-hosted worker fleet (`fanout worker` on your own machines or
   * containers) sends: what the worker Lambda's role has (see {@link Fanout.workerFunction}) —
   * ReceiveMessage, DeleteMessage, ChangeMessageVisibility, GetQueueAttributes and SendMessage on
   * the task queue; GetItem, UpdateItem, PutItem, DeleteItem, Query, BatchGetItem and
   * BatchWriteItem on the table (results, and the shared objects a task or a Process target
   * uses); s3:GetObject on `runs/<run>/args/…` objects, s3:PutObject and s3:AbortMultipartUpload
   * on `runs/<run>/results/…` objects, and all three on `objects/…` and `processes/<id>/args`
   * objects — and cloudformation:DescribeStacks on this stack. Under cdk-nag, acknowledge
   * AwsSolutions-IAM5 on the grantee for the four object key patterns.
   *
   * @example
   * ```ts
   * fanout.grantWorker(ecsTaskRole);
   * ```
   */
  public grantWorker(grantee: iam.IGrantable): iam.Grant {
    return this.grantWorkerData(grantee).combine(this.grantDescribeStack(grantee));
  }

  /** The worker's queue, table and object actions, shared by the Lambda's role and {@link grantWorker}. */
  private grantWorkerData(grantee: iam.IGrantable): iam.Grant {
    const readWrite = [...OBJECT_READ_ACTIONS, ...OBJECT_WRITE_ACTIONS];
    return this.queue
      .grant(grantee, ...WORKER_QUEUE_ACTIONS)
      .combine(this.table.grant(grantee, ...WORKER_TABLE_ACTIONS))
      .combine(this.grantObjects(grantee, ARGUMENT_OBJECTS, OBJECT_READ_ACTIONS))
      .combine(this.grantObjects(grantee, RESULT_OBJECTS, OBJECT_WRITE_ACTIONS))
      .combine(this.grantObjects(grantee, SHARED_OBJECTS, readWrite))
      .combine(this.grantObjects(grantee, PROCESS_ARGUMENT_OBJECTS, readWrite));
  }

  /** `actions` on the payload bucket's objects whose keys match `pattern`. */
  private grantObjects(grantee: iam.IGrantable, pattern: string, actions: string[]): iam.Grant {
    return iam.Grant.addToPrincipalOrResource({
      grantee,
      actions,
      resourceArns: [this.bucket.arnForObjects(pattern)],
      resource: this.bucket,
    });
  }

  /** AwsConfig reads the stack's outputs with DescribeStacks when `FANOUT_STACK` names it. */
  private grantDescribeStack(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['cloudformation:DescribeStacks'],
      resourceArns: [Stack.of(this).stackId],
    });
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
  const maxBatchingWindowSeconds = seconds(
    'maxBatchingWindow',
    props.maxBatchingWindow ?? Duration.seconds(0),
    0,
    MAX_BATCHING_WINDOW_SECONDS,
    "from 0 to 5 minutes, Lambda's limit",
  );
  // CreateEventSourceMapping refuses a visibility under the function's timeout; a batch may also
  // wait up to the batching window in the poller before the invocation starts.
  const minVisibility = Math.max(workerTimeoutSeconds, 2 * maxBatchingWindowSeconds);
  const visibilityTimeoutSeconds = seconds(
    'visibilityTimeout',
    props.visibilityTimeout ?? Duration.seconds(Math.max(2 * workerTimeoutSeconds, minVisibility)),
    minVisibility,
    MAX_VISIBILITY_SECONDS,
    'at least workerTimeout and 2 × maxBatchingWindow, at most 12 hours, the SQS maximum',
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
  const removal = props.removal ?? 'destroy';
  if (removal !== 'destroy' && removal !== 'retain') {
    throw new InvalidArgumentError('Fanout props.removal', removal, "'destroy' or 'retain'");
  }
  const alarmTopic = props.alarmTopic;
  if (alarmTopic !== undefined && !(Construct.isConstruct(alarmTopic) && typeof alarmTopic.topicArn === 'string')) {
    throw new InvalidArgumentError(
      'Fanout props.alarmTopic',
      alarmTopic,
      'an sns.ITopic (new sns.Topic(...) or sns.Topic.fromTopicArn(...)), or undefined',
    );
  }

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
  const api = props.api ?? true;
  if (typeof api !== 'boolean') {
    throw new InvalidArgumentError('Fanout props.api', api, 'true (serve the jobs API) or false');
  }
  if (!api && props.apiEntry !== undefined) {
    throw new InvalidArgumentError(
      'Fanout props.apiEntry',
      props.apiEntry,
      'undefined when props.api is false',
      'There is no API function to give it to: remove apiEntry, or set api to true.',
    );
  }
  const apiEntry = api ? existingFile('apiEntry', props.apiEntry ?? DEFAULT_API_ENTRY) : undefined;

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
    removal,
    alarmTopic,
    architecture,
    workerTimeoutSeconds,
    visibilityTimeoutSeconds,
    batchSize,
    maxBatchingWindowSeconds,
    maxConcurrency,
    maxReceiveCount,
    retentionSeconds,
    entry,
    apiEntry,
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
 * Writes a function's bundle entry (the worker's, the API's): it imports each task module for
 * its side effects (ES modules evaluate in import order, so every task is registered before the
 * handler module runs) and re-exports the handler. The content depends only on the absolute paths, and the
 * file is named after its content hash, so synths are deterministic and constructs that share
 * a project root never overwrite each other's entry.
 */
function writeBundleEntry(config: ResolvedProps, handlerModule: string): string {
  const lines = [
    '// Generated by the Fanout construct (infra/Fanout.ts) at synth time. Do not edit.',
    '// Task modules first, for their side effects: importing one registers its tasks.',
    ...config.taskModules.map((module) => `import ${JSON.stringify(module)};`),
    `export { handler } from ${JSON.stringify(handlerModule)};`,
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

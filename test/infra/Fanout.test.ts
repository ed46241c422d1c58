import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { SQSEvent } from 'aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Fanout } from '../../infra/Fanout.js';
import { FanoutStack } from '../../infra/FanoutStack.js';
import { argumentsKey, processArgumentsKey, resultsKey } from '../../lib/backends/aws/chunkMessages.js';
import type { RecordError } from './fixtures/handler.js';
import {
  FIXTURE_HANDLER,
  FIXTURE_TASKS,
  SYNTH_TIMEOUT_MS,
  grantedActions,
  logicalId,
  newApp,
  referencedIds,
  roleStatements,
  type Statement,
} from './fixtures/synth.js';
import { ValueError } from '../../lib/errors.js';

/**
 * The table actions of both roles: the pool's (results) and every shared object's (locks,
 * semaphores, events, conditions, barriers, values, arrays, queues, pipes, processes), which a
 * program and a task on a worker use alike.
 */
const SHARED_TABLE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

/** The worker's actions, exactly, by resource (the Lambda's role and grantWorker's grantee). */
function workerActions(ids: { queue: string; table: string; bucket: string }): Record<string, string[]> {
  return {
    [ids.queue]: [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ],
    [ids.table]: SHARED_TABLE_ACTIONS,
    [`${ids.bucket}/runs/*/args/*`]: ['s3:GetObject'],
    [`${ids.bucket}/runs/*/results/*`]: ['s3:AbortMultipartUpload', 's3:PutObject'],
    // A task's big queue and pipe items, both ways; a Process's big arguments, read by the worker
    // that runs it and written by a task that starts one.
    [`${ids.bucket}/objects/*`]: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
    [`${ids.bucket}/processes/*/args`]: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
  };
}

/** The resources of a template whose DeletionPolicy is `policy`, by type. */
function typesWithDeletionPolicy(template: Template, policy: string): string[] {
  const resources = Object.values(template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>);
  return resources
    .filter((resource) => (resource.DeletionPolicy ?? 'Delete') === policy)
    .map((resource) => resource.Type)
    .sort();
}

describe('Fanout construct with default props', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let app: App;
  let stack: FanoutStack;
  let template: Template;
  let ids: {
    queue: string;
    dlq: string;
    table: string;
    bucket: string;
    logBucket: string;
    fn: string;
    role: string;
    logs: string;
    api: string;
    apiRole: string;
    apiLogs: string;
    apiUrl: string;
  };

  beforeAll(() => {
    app = newApp();
    stack = new FanoutStack(app, 'Defaults', { taskModules: [FIXTURE_TASKS], entry: FIXTURE_HANDLER });
    template = Template.fromStack(stack);
    const cfn = (construct: { node: { defaultChild?: unknown } }) =>
      stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
    const { fanout } = stack;
    ids = {
      queue: cfn(fanout.queue),
      dlq: cfn(fanout.deadLetterQueue),
      table: cfn(fanout.table),
      bucket: cfn(fanout.bucket),
      logBucket: cfn(fanout.accessLogBucket),
      fn: cfn(fanout.workerFunction),
      role: cfn(fanout.workerFunction.role as iam.Role),
      logs: cfn(fanout.workerLogGroup),
      api: cfn(fanout.apiFunction!),
      apiRole: cfn(fanout.apiFunction!.role as iam.Role),
      apiLogs: cfn(fanout.apiLogGroup!),
      apiUrl: cfn(fanout.apiFunctionUrl!),
    };
  }, SYNTH_TIMEOUT_MS);

  /** The worker's index.mjs in cdk.out, as `cdk deploy` would upload it. */
  const bundlePath = () => {
    const code = template.toJSON().Resources[ids.fn].Properties.Code as { S3Key: string };
    return join(app.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
  };
  type FixtureResponse = { batchItemFailures: { itemIdentifier: string }[]; knownTasks: string[]; errors: RecordError[] };
  /**
   * Runs the bundle's handler in a thread of its own, as in a Lambda: its task registry is the
   * thread's, not this test process's (which has imported the same task modules from source).
   */
  const runBundle = (event: SQSEvent) =>
    new Promise<FixtureResponse>((resolve, reject) => {
      // The Lambda runtime provides the AWS SDK the bundle leaves out; here, this repository's.
      const provided = join(app.outdir, 'node_modules');
      if (!existsSync(provided)) symlinkSync(fileURLToPath(new URL('../../node_modules', import.meta.url)), provided, 'dir');
      const script =
        "const { parentPort, workerData } = require('node:worker_threads');" +
        'import(workerData.url).then(async (bundle) => parentPort.postMessage(await bundle.handler(workerData.event)));';
      const thread = new Worker(script, { eval: true, workerData: { url: pathToFileURL(bundlePath()).href, event } });
      thread.once('message', (response: FixtureResponse) => {
        resolve(response);
        void thread.terminate();
      });
      thread.once('error', reject);
    });

  it('creates exactly the expected resources; the only custom resources empty the two buckets on deletion', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    // The worker's logs and the API's.
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    // The worker, the API, and CDK's auto-delete provider (one per stack), each with its role.
    template.resourceCountIs('AWS::Lambda::Function', 3);
    template.resourceCountIs('AWS::IAM::Role', 3);
    template.resourceCountIs('AWS::Lambda::Url', 1);
    // No resource policy: who may call the API is granted with grantInvokeApi.
    template.resourceCountIs('AWS::Lambda::Permission', 0);
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types.filter((type) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource')).toEqual([
      'Custom::S3AutoDeleteObjects',
      'Custom::S3AutoDeleteObjects',
    ]);
  });

  it("removal 'destroy' (the default): cdk destroy deletes everything, and empties both buckets first", () => {
    expect(typesWithDeletionPolicy(template, 'Retain')).toEqual([]);
    for (const bucket of [ids.bucket, ids.logBucket]) {
      template.hasResourceProperties('Custom::S3AutoDeleteObjects', { BucketName: { Ref: bucket } });
      // The auto-delete handler empties only a bucket carrying this tag.
      const tags = template.toJSON().Resources[bucket].Properties.Tags as { Key: string; Value: string }[];
      expect(tags).toContainEqual({ Key: 'aws-cdk:auto-delete-objects', Value: 'true' });
    }
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
  });

  it("removal 'destroy': the auto-delete provider may empty these two buckets and nothing else", () => {
    const providerRole = logicalId(template, 'AWS::IAM::Role', {
      ManagedPolicyArns: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' }],
    });
    // No identity policy: its S3 rights come from the buckets' own policies.
    expect(Object.values(template.findResources('AWS::IAM::Policy')).map((policy) => policy.Properties.Roles)).not.toContainEqual(
      [{ Ref: providerRole }],
    );
    const grants = Object.values(template.findResources('AWS::S3::BucketPolicy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as (Statement & { Principal?: unknown })[])
        .filter((statement) => referencedIds(statement.Principal).includes(providerRole))
        .map((statement) => ({
          bucket: policy.Properties.Bucket,
          actions: statement.Action,
          on: referencedIds(statement.Resource),
        })),
    );
    const actions = ['s3:DeleteObject*', 's3:GetBucket*', 's3:List*', 's3:PutBucketPolicy'];
    expect(grants).toEqual([
      { bucket: { Ref: ids.logBucket }, actions, on: [ids.logBucket, ids.logBucket] },
      { bucket: { Ref: ids.bucket }, actions, on: [ids.bucket, ids.bucket] },
    ]);
  });

  it('task queue: 1 MiB messages, SQS-managed encryption, visibility 2 × the worker timeout, redrive to the DLQ after 5', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      MaximumMessageSize: 1_048_576,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 600,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    const queue = template.toJSON().Resources[ids.queue].Properties;
    const fn = template.toJSON().Resources[ids.fn].Properties;
    expect(fn.Timeout).toBe(300);
    expect(queue.VisibilityTimeout).toBe(2 * fn.Timeout);
  });

  it('dead-letter queue: encrypted, 14 days retention', () => {
    expect(template.toJSON().Resources[ids.dlq].Properties).toEqual({
      MaximumMessageSize: 1_048_576,
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
  });

  it.each(['queue', 'dlq'] as const)('%s: a queue policy denies every request without TLS', (which) => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ids[which] }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: { 'Fn::GetAtt': [ids[which], 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('table: pk/sk strings, on demand, TTL on expiresAt, AWS-managed encryption, PITR, deleted with the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
    const sse = template.toJSON().Resources[ids.table].Properties.SSESpecification;
    expect(sse).toEqual({ SSEEnabled: true }); // no customer-managed KMS key
  });

  it('payload bucket: public access blocked, S3-managed encryption, expiry after 1 day, access logs, deleted with the stack', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              Status: 'Enabled',
              ExpirationInDays: 1,
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            }),
          ],
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: ids.logBucket }, LogFilePrefix: 'payloads/' },
      },
    });
  });

  it('payload bucket: one expiry rule with no prefix or filter, so every key prefix (runs/, objects/, processes/) expires', () => {
    const bucket = template.toJSON().Resources[ids.bucket].Properties;
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'ExpirePayloads',
        Status: 'Enabled',
        ExpirationInDays: 1,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
  });

  it('access log bucket: public access blocked, encrypted, logs expire, deleted with the stack', () => {
    const logBucket = template.toJSON().Resources[ids.logBucket];
    expect(logBucket.DeletionPolicy).toBe('Delete');
    expect(logBucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90, Status: 'Enabled' })] },
    });
    // Only the S3 logging service may write, and only the payload bucket's logs.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.logBucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:PutObject',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [ids.bucket, 'Arn'] } } }),
          }),
        ]),
      },
    });
  });

  it.each(['bucket', 'logBucket'] as const)('%s: the bucket policy denies every request without TLS', (which) => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids[which] },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: [
              { 'Fn::GetAtt': [ids[which], 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids[which], 'Arn'] }, '/*']] },
            ],
          },
        ]),
      },
    });
  });

  it('worker function: nodejs22.x on arm64, 1769 MB, 5 min, ESM handler, environment, log group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1769,
      Timeout: 300,
      Handler: 'index.handler',
      Role: { 'Fn::GetAtt': [ids.role, 'Arn'] },
      LoggingConfig: { LogGroup: { Ref: ids.logs } },
      Environment: {
        Variables: {
          FANOUT_TABLE: { Ref: ids.table },
          FANOUT_QUEUE_URL: { Ref: ids.queue },
          FANOUT_BUCKET: { Ref: ids.bucket },
          FANOUT_RETENTION_SECONDS: '86400',
          FANOUT_WORKER_MEMORY_MB: '1769',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('API function: nodejs22.x on arm64, 1024 MB, 60 s, ESM handler, its own role and log group, marked FANOUT_FUNCTION=api', () => {
    expect(template.toJSON().Resources[ids.api].Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 60,
      Handler: 'index.handler',
      Role: { 'Fn::GetAtt': [ids.apiRole, 'Arn'] },
      LoggingConfig: { LogGroup: { Ref: ids.apiLogs } },
      Environment: {
        Variables: {
          FANOUT_FUNCTION: 'api',
          FANOUT_TABLE: { Ref: ids.table },
          FANOUT_QUEUE_URL: { Ref: ids.queue },
          FANOUT_DLQ_URL: { Ref: ids.dlq },
          FANOUT_BUCKET: { Ref: ids.bucket },
          FANOUT_RETENTION_SECONDS: '86400',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    expect(ids.apiRole).not.toBe(ids.role);
    expect(template.toJSON().Resources[ids.apiLogs].Properties).toEqual({ RetentionInDays: 30 });
    // The worker is not marked: a template's reader tells the two apart by the API's marker.
    expect(template.toJSON().Resources[ids.fn].Properties.Environment.Variables.FANOUT_FUNCTION).toBeUndefined();
  });

  it('API: a Function URL with AuthType AWS_IAM on the API function, buffered, no CORS', () => {
    expect(template.toJSON().Resources[ids.apiUrl].Properties).toEqual({
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [ids.api, 'Arn'] },
    });
    expect(stack.fanout.apiFunctionUrl!.authType).toBe(lambda.FunctionUrlAuthType.AWS_IAM);
  });

  it('IAM: the API role allows exactly the actions the API sends, on these resources, and its log writes', () => {
    expect(grantedActions(template, ids.apiRole)).toEqual({
      // Only sends: the dead-letter queue is named in its environment, not looked up.
      [ids.queue]: ['sqs:SendMessage'],
      [ids.table]: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      [`${ids.bucket}/runs/*/args/*`]: ['s3:AbortMultipartUpload', 's3:PutObject'],
      [`${ids.bucket}/runs/*/results/*`]: ['s3:GetObject'],
      [`${ids.bucket}/uploads/*`]: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      [ids.apiLogs]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    });
    const role = template.toJSON().Resources[ids.apiRole].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  it('bundle: the API entry imports the same task modules, then re-exports the API handler; its asset is an ESM index.mjs', () => {
    const entry = readFileSync(stack.fanout.apiBundleEntry!, 'utf8');
    const apiHandler = fileURLToPath(new URL('../../functions/api/handler.ts', import.meta.url));
    const importAt = entry.indexOf(`import ${JSON.stringify(FIXTURE_TASKS)};`);
    const exportAt = entry.indexOf(`export { handler } from ${JSON.stringify(apiHandler)};`);
    expect(importAt).toBeGreaterThan(-1);
    expect(exportAt).toBeGreaterThan(importAt);
    expect(stack.fanout.apiBundleEntry).not.toBe(stack.fanout.bundleEntry);
    const code = template.toJSON().Resources[ids.api].Properties.Code as { S3Key: string };
    const asset = join(app.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
    const source = readFileSync(asset, 'utf8');
    expect(source.startsWith("import { createRequire as __fanoutCreateRequire } from 'node:module';")).toBe(true);
    expect(existsSync(`${asset}.map`)).toBe(true);
  });

  it('event source: the task queue, batch size 10, partial batch failures, maximum concurrency 100', () => {
    expect(template.toJSON().Resources[logicalId(template, 'AWS::Lambda::EventSourceMapping')].Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      FunctionName: { Ref: ids.fn },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 100 },
    });
  });

  it('event source: keeps the logical ID SqsEventSource gives it (Lambda refuses a second mapping of one queue and function)', () => {
    // The same construct paths with CDK's SqsEventSource, as the construct used before.
    const reference = new Stack(newApp({ bundle: false }), 'Defaults');
    const scope = new Construct(reference, 'Fanout');
    const queue = new sqs.Queue(scope, 'TaskQueue');
    const worker = new lambda.Function(scope, 'Worker', {
      code: lambda.Code.fromInline('export const handler = () => {};'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
    });
    worker.addEventSource(new SqsEventSource(queue));
    expect(logicalId(template, 'AWS::Lambda::EventSourceMapping')).toBe(
      logicalId(Template.fromStack(reference), 'AWS::Lambda::EventSourceMapping'),
    );
  });

  it('alarms: dead-letter queue depth above 0, and worker errors above 0, each over one minute, with no action', () => {
    const common = {
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      TreatMissingData: 'notBreaching',
      Period: 60,
    };
    const alarms = template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    const { fanout } = stack;
    const deadLetter = alarms[stack.getLogicalId(fanout.deadLetterAlarm.node.defaultChild as cloudwatch.CfnAlarm)]!;
    const errors = alarms[stack.getLogicalId(fanout.workerErrorsAlarm.node.defaultChild as cloudwatch.CfnAlarm)]!;
    expect(deadLetter.Properties).toEqual({
      ...common,
      AlarmDescription: expect.stringContaining('dead-letter queue'),
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
      Statistic: 'Maximum',
    });
    expect(errors.Properties).toEqual({
      ...common,
      AlarmDescription: expect.stringContaining('worker invocation failed'),
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }],
      Statistic: 'Sum',
    });
  });

  it('IAM: no policy statement has a * action or a * resource, and every resource is in this stack', () => {
    const resources = template.toJSON().Resources as Record<string, unknown>;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: Statement[] } };
    }[];
    expect(policies.length).toBeGreaterThan(0);
    for (const statement of policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement)) {
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      for (const action of actions) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/:\*$/); // no service-wide wildcard such as s3:*
      }
      const statementResources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      for (const resource of statementResources) {
        expect(typeof resource, `literal resource ${JSON.stringify(resource)}`).toBe('object');
        const refs = referencedIds(resource);
        expect(refs.length, `resource ${JSON.stringify(resource)} refers to no resource of the stack`).toBeGreaterThan(0);
        for (const ref of refs) expect(Object.keys(resources)).toContain(ref);
      }
    }
  });

  it('IAM: the worker role has no managed policies and is assumable by Lambda only', () => {
    const role = template.toJSON().Resources[ids.role].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  it('IAM: the worker role allows exactly the actions the worker sends, on these resources, and its log writes', () => {
    expect(grantedActions(template, ids.role)).toEqual({
      ...workerActions(ids),
      [ids.logs]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    });
  });

  it('IAM: the event source mapping is created after the policy that lets Lambda poll the queue', () => {
    // CreateEventSourceMapping checks the role's permissions: the function waits for its policy.
    const fn = template.toJSON().Resources[ids.fn];
    expect(fn.DependsOn).toContain(logicalId(template, 'AWS::IAM::Policy', { Roles: [{ Ref: ids.role }] }));
  });

  it('bundle: generated entry imports the task modules, then re-exports the handler, by absolute path', () => {
    const entry = readFileSync(stack.fanout.bundleEntry, 'utf8');
    const importAt = entry.indexOf(`import ${JSON.stringify(FIXTURE_TASKS)};`);
    const exportAt = entry.indexOf(`export { handler } from ${JSON.stringify(FIXTURE_HANDLER)};`);
    expect(importAt).toBeGreaterThan(-1);
    expect(exportAt).toBeGreaterThan(importAt);
  });

  it('bundle: a minified ESM index.mjs with source map and createRequire banner, whose handler sees the tasks', async () => {
    const source = readFileSync(bundlePath(), 'utf8');
    expect(existsSync(`${bundlePath()}.map`)).toBe(true);
    expect(source.startsWith("import { createRequire as __fanoutCreateRequire } from 'node:module';")).toBe(true);
    // Booleans, not toContain: a failure would print the whole bundle.
    expect(source.includes('//# sourceMappingURL=index.mjs.map')).toBe(true);
    // Minified: a handful of long lines, and identifiers renamed (lib/errors.ts's describeValue is
    // called by a short name; keepNames keeps only the string, for its `name`).
    expect(source.split('\n').length).toBeLessThan(50);
    expect(/\bdescribeValue\(/.test(source), 'describeValue( in the bundle').toBe(false);
    expect(source.includes('"describeValue"'), '"describeValue" in the bundle').toBe(true);
    const response = await runBundle({
      Records: [
        { messageId: 'known', body: JSON.stringify({ task: 'square', args: [3] }) },
        { messageId: 'unknown', body: JSON.stringify({ task: 'noSuchTask' }) },
      ],
    } as SQSEvent);
    const fixtureTasks = Object.values(await import('../fixtures/tasks.js')).map((task) => task.taskName);
    expect(response.knownTasks).toEqual(fixtureTasks.sort());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'unknown' }]);
  });

  it("bundle: keepNames — fanout's error classes and a task module's own error class keep their names", async () => {
    const response = await runBundle({
      Records: [
        { messageId: 'unknown', body: JSON.stringify({ task: 'noSuchTask' }) },
        { messageId: 'no-task', body: JSON.stringify({ args: [] }) },
        { messageId: 'negative', body: JSON.stringify({ task: 'failIfNegative', args: [-1] }) },
      ],
    } as SQSEvent);
    // FanoutError sets `name` from `new.target.name`; the task's ValidationError sets its own
    // name, but its class is minified unless keepNames holds.
    expect(response.errors).toEqual([
      { messageId: 'unknown', name: 'UnknownTaskError', className: 'UnknownTaskError' },
      { messageId: 'no-task', name: 'InvalidArgumentError', className: 'InvalidArgumentError' },
      { messageId: 'negative', name: 'ValidationError', className: 'ValidationError' },
    ]);
    const source = readFileSync(bundlePath(), 'utf8');
    for (const name of ['InvalidArgumentError', 'UnknownTaskError', 'ValidationError']) {
      expect(source.includes(`"${name}"`), `"${name}" in the bundle`).toBe(true);
    }
  });
});

describe('Fanout construct with custom props', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let stack: Stack;
  let fanout: Fanout;
  let topic: sns.Topic;
  let template: Template;

  beforeAll(() => {
    // Template-only checks: no bundling (the bundle is tested with the defaults above).
    stack = new Stack(newApp({ bundle: false }), 'Custom');
    topic = new sns.Topic(stack, 'Alarms');
    fanout = new Fanout(stack, 'Work', {
      taskModules: [FIXTURE_TASKS, FIXTURE_TASKS],
      entry: FIXTURE_HANDLER,
      workerMemoryMb: 3538,
      architecture: lambda.Architecture.X86_64,
      workerTimeout: Duration.seconds(90),
      visibilityTimeout: Duration.hours(12),
      batchSize: 4,
      maxBatchingWindow: Duration.seconds(20),
      maxConcurrency: 2,
      maxReceiveCount: 7,
      retention: Duration.hours(49),
      removal: 'retain',
      alarmTopic: topic,
    });
    template = Template.fromStack(stack);
  }, SYNTH_TIMEOUT_MS);

  it("removal 'retain': the table, both buckets and the log group stay after cdk destroy; no custom resource", () => {
    expect(typesWithDeletionPolicy(template, 'Retain')).toEqual(
      ['AWS::DynamoDB::Table', 'AWS::Logs::LogGroup', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket', 'AWS::S3::Bucket'].sort(),
    );
    for (const type of ['AWS::DynamoDB::Table', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket']) {
      for (const resource of Object.values(template.findResources(type))) expect(resource.UpdateReplacePolicy).toBe('Retain');
    }
    // The queues (transient messages) are deleted whatever the choice.
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) expect(queue.DeletionPolicy).toBe('Delete');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    // The worker and the API.
    template.resourceCountIs('AWS::Lambda::Function', 2);
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.Properties.Tags ?? []).not.toContainEqual(expect.objectContaining({ Key: 'aws-cdk:auto-delete-objects' }));
    }
  });

  it('alarmTopic: both alarms notify the topic when they go into alarm', () => {
    const topicId = stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic);
    for (const alarm of [fanout.deadLetterAlarm, fanout.workerErrorsAlarm]) {
      const props = template.toJSON().Resources[stack.getLogicalId(alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
      expect(props.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(props.OKActions).toBeUndefined();
    }
  });

  it('the API function runs on the architecture given and stamps the retention given', () => {
    expect(
      template.toJSON().Resources[stack.getLogicalId(fanout.apiFunction!.node.defaultChild as lambda.CfnFunction)].Properties,
    ).toMatchObject({
      Architectures: ['x86_64'],
      MemorySize: 1024,
      Environment: { Variables: { FANOUT_RETENTION_SECONDS: String(49 * 3600) } },
    });
  });

  it('passes memory, architecture and timeout to the function, and memory and retention to its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['x86_64'],
      MemorySize: 3538,
      Timeout: 90,
      Environment: {
        Variables: Match.objectLike({ FANOUT_RETENTION_SECONDS: String(49 * 3600), FANOUT_WORKER_MEMORY_MB: '3538' }),
      },
    });
  });

  it('uses the visibility timeout and maxReceiveCount given', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 12 * 3600,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 7 }),
    });
  });

  it('uses the batch size, batching window and maximum concurrency given', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 4,
      MaximumBatchingWindowInSeconds: 20,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('rounds the retention up to whole days for the payload expiry (49 hours → 3 days)', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 3 })] },
    });
  });

  it('imports a task module listed twice only once', () => {
    const entry = readFileSync(fanout.bundleEntry, 'utf8');
    expect(entry.split(JSON.stringify(FIXTURE_TASKS)).length - 1).toBe(1);
  });

  it('writes the same entry, at the same path, for the same modules (deterministic synth)', () => {
    const again = new Fanout(new Stack(newApp({ bundle: false }), 'Again'), 'Work', {
      taskModules: [FIXTURE_TASKS],
      entry: FIXTURE_HANDLER,
    });
    expect(again.bundleEntry).toBe(fanout.bundleEntry);
  });
});

describe('Fanout grants', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let stack: Stack;
  let template: Template;
  let ids: {
    queue: string;
    dlq: string;
    table: string;
    bucket: string;
    client: string;
    fleet: string;
    caller: string;
    api: string;
  };

  beforeAll(() => {
    stack = new Stack(newApp({ bundle: false }), 'Grants');
    const fanout = new Fanout(stack, 'Fanout', {
      taskModules: [FIXTURE_TASKS],
      entry: FIXTURE_HANDLER,
      retention: Duration.hours(1),
    });
    const client = new iam.Role(stack, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
    const fleet = new iam.Role(stack, 'Fleet', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    expect(fanout.grantClient(client).success).toBe(true);
    expect(fanout.grantWorker(fleet).success).toBe(true);
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    expect(fanout.grantInvokeApi(caller).success).toBe(true);
    expect(fanout.grantInvokeApi(new iam.AccountPrincipal('111122223333')).success).toBe(true);
    template = Template.fromStack(stack);
    const cfn = (construct: { node: { defaultChild?: unknown } }) =>
      stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
    ids = {
      queue: cfn(fanout.queue),
      dlq: cfn(fanout.deadLetterQueue),
      table: cfn(fanout.table),
      bucket: cfn(fanout.bucket),
      client: cfn(client),
      fleet: cfn(fleet),
      caller: cfn(caller),
      api: cfn(fanout.apiFunction!),
    };
  }, SYNTH_TIMEOUT_MS);

  it('grantInvokeApi: both InvokeFunctionUrl (AuthType AWS_IAM) and InvokeFunction (via the URL only) on the API function, nothing else', () => {
    const statements = roleStatements(template, ids.caller);
    const apiArn = { 'Fn::GetAtt': [ids.api, 'Arn'] };
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunctionUrl',
        Resource: apiArn,
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      },
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: apiArn,
        Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } },
      },
    ]);
  });

  it('grantInvokeApi: a principal of another account gets both as Lambda permissions on the function', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map((resource) => resource.Properties);
    expect(permissions).toEqual(
      expect.arrayContaining([
        {
          Action: 'lambda:InvokeFunctionUrl',
          FunctionName: { 'Fn::GetAtt': [ids.api, 'Arn'] },
          FunctionUrlAuthType: 'AWS_IAM',
          Principal: '111122223333',
        },
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [ids.api, 'Arn'] },
          InvokedViaFunctionUrl: true,
          Principal: '111122223333',
        },
      ]),
    );
    expect(permissions).toHaveLength(2);
  });

  it('grantInvokeApi on a construct made with api: false throws a ValueError that says why', () => {
    const bare = new Fanout(new Stack(newApp({ bundle: false }), 'Bare'), 'Fanout', {
      taskModules: [FIXTURE_TASKS],
      entry: FIXTURE_HANDLER,
      api: false,
    });
    const role = new iam.Role(Stack.of(bare), 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => bare.grantInvokeApi(role)).toThrow(ValueError);
    expect(() => bare.grantInvokeApi(role)).toThrow(/has no API \(its props set api: false\)/);
  });

  it('a retention under a day still expires payloads after 1 day (the S3 minimum)', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 1 })] },
    });
  });

  it('grantClient: exactly what the client sends — send, dead letters, records and shared objects, arguments out and results in, big queue items, Process arguments out, the stack outputs', () => {
    expect(grantedActions(template, ids.client)).toEqual({
      [ids.queue]: ['sqs:GetQueueAttributes', 'sqs:SendMessage'],
      [ids.dlq]: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
      [ids.table]: SHARED_TABLE_ACTIONS,
      [`${ids.bucket}/runs/*/args/*`]: ['s3:AbortMultipartUpload', 's3:PutObject'],
      [`${ids.bucket}/runs/*/results/*`]: ['s3:GetObject'],
      [`${ids.bucket}/objects/*`]: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
      // A program starts Processes (writes their big arguments) but never runs one.
      [`${ids.bucket}/processes/*/args`]: ['s3:AbortMultipartUpload', 's3:PutObject'],
      'AWS::StackId': ['cloudformation:DescribeStacks'],
    });
  });

  it('grantWorker: exactly what the worker Lambda has (without its log group), and the stack outputs', () => {
    expect(grantedActions(template, ids.fleet)).toEqual({
      ...workerActions(ids),
      'AWS::StackId': ['cloudformation:DescribeStacks'],
    });
  });

  it('the granted object patterns are the keys the aws backend uses: arguments, results, shared objects and Process arguments apart', () => {
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    const objects = (roleId: string) =>
      Object.keys(grantedActions(template, roleId))
        .filter((key) => key.startsWith(`${ids.bucket}/`))
        .map((key) => key.slice(ids.bucket.length + 1))
        .sort();
    const patterns = objects(ids.fleet);
    expect(objects(ids.client)).toEqual(patterns);
    const keys: Record<string, string> = {
      'runs/*/args/*': argumentsKey('6f1c2e4a-run', 12),
      'runs/*/results/*': resultsKey('6f1c2e4a-run', 12, 'message-1-attempt-2'),
      // QueueStore.putItem's key of a big item, `objects/<kind>/<id>/<part>` (aws.queue.test.ts checks the prefix).
      'objects/*': 'objects/queue/1b2c3d4e/0001733100000000-ab12-0000000001',
      'processes/*/args': processArgumentsKey('9f2c1e0b'),
    };
    expect(Object.keys(keys).sort()).toEqual(patterns);
    // Each key matches exactly one pattern, its own.
    for (const [own, key] of Object.entries(keys)) {
      expect(patterns.filter((pattern) => glob(pattern).test(key))).toEqual([own]);
    }
  });

  it('under cdk-nag, each grantee has exactly the four object-pattern findings its doc comment names', () => {
    const findings = new AwsSolutionsChecks().validateScope(stack).violations.map((violation) => ({
      rule: violation.ruleName,
      paths: violation.violatingResources.map((resource) => resource.constructPath).sort(),
    }));
    expect(findings.sort((a, b) => a.rule.localeCompare(b.rule))).toEqual(
      ['objects/*', 'processes/*/args', 'runs/*/args/*', 'runs/*/results/*'].map((objects) => ({
        rule: `AwsSolutions-IAM5[Resource::<${ids.bucket}.Arn>/${objects}]`,
        paths: ['Grants/Client/DefaultPolicy/Resource', 'Grants/Fleet/DefaultPolicy/Resource'],
      })),
    );
  });

  it('a grantee in another stack gets the same grants, through exports', () => {
    const app = newApp({ bundle: false });
    const fanout = new Fanout(new Stack(app, 'Home'), 'Fanout', { taskModules: [FIXTURE_TASKS], entry: FIXTURE_HANDLER });
    const other = new Stack(app, 'Elsewhere');
    const role = new iam.Role(other, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
    fanout.grantClient(role);
    const policy = Template.fromStack(other).toJSON().Resources as Record<string, { Type: string; Properties: never }>;
    const statements = Object.values(policy)
      .filter((resource) => resource.Type === 'AWS::IAM::Policy')
      .flatMap((resource) => (resource.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);
    // The actions, each once (statements with the same actions are merged, so counts say nothing).
    expect([...new Set(statements.map((statement) => statement.Action).flat())].sort()).toEqual(
      [
        'cloudformation:DescribeStacks',
        ...SHARED_TABLE_ACTIONS,
        's3:AbortMultipartUpload',
        's3:GetObject',
        's3:PutObject',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ].sort(),
    );
    expect(JSON.stringify(statements)).toContain('Fn::ImportValue');
  });
});

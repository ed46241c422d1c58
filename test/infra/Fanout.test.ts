import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { Fanout } from '../../infra/Fanout.js';
import { FanoutStack } from '../../infra/FanoutStack.js';
import {
  FIXTURE_HANDLER,
  FIXTURE_TASKS,
  allows,
  logicalId,
  newApp,
  referencedIds,
  roleStatements,
  type Statement,
} from './fixtures/synth.js';

describe('Fanout construct with default props', () => {
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
      logs: logicalId(template, 'AWS::Logs::LogGroup'),
    };
  });

  it('creates exactly the expected resources, and no custom resources', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    const types = Object.values(template.toJSON().Resources as Record<string, { Type: string }>).map((r) => r.Type);
    expect(types.filter((type) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource')).toEqual([]);
  });

  it('task queue: 1 MiB messages, SQS-managed encryption, visibility 6 × the worker timeout, redrive to the DLQ after 5', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      MaximumMessageSize: 1_048_576,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 1800,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] }, maxReceiveCount: 5 },
    });
    const queue = template.toJSON().Resources[ids.queue].Properties;
    const fn = template.toJSON().Resources[ids.fn].Properties;
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Timeout);
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

  it('access log bucket: public access blocked, encrypted, logs expire, retained (audit records)', () => {
    const logBucket = template.toJSON().Resources[ids.logBucket];
    expect(logBucket.DeletionPolicy).toBe('Retain');
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

  it('event source: the task queue, batch size 10, partial batch failures, maximum concurrency 100', () => {
    expect(template.toJSON().Resources[logicalId(template, 'AWS::Lambda::EventSourceMapping')].Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      FunctionName: { Ref: ids.fn },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 100 },
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

  it('IAM: the worker may consume the task queue, read and write the table and bucket, and write its logs — nothing more', () => {
    const statements = roleStatements(template, ids.role);
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes']) {
      expect(allows(statements, action, ids.queue), action).toBe(true);
    }
    for (const action of [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:Query',
      'dynamodb:BatchWriteItem',
    ]) {
      expect(allows(statements, action, ids.table), action).toBe(true);
    }
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) {
      expect(allows(statements, action, ids.bucket, '/*'), action).toBe(true);
    }
    expect(allows(statements, 'logs:PutLogEvents', ids.logs)).toBe(true);
    expect(allows(statements, 'logs:CreateLogStream', ids.logs)).toBe(true);
    // Least privilege: the worker does not send chunks, touch the DLQ, the log bucket, or manage the table.
    expect(allows(statements, 'sqs:SendMessage', ids.queue)).toBe(false);
    expect(allows(statements, 'sqs:ReceiveMessage', ids.dlq)).toBe(false);
    expect(allows(statements, 's3:GetObject', ids.logBucket, '/*')).toBe(false);
    expect(allows(statements, 'dynamodb:DeleteTable', ids.table)).toBe(false);
    expect(allows(statements, 'logs:CreateLogGroup', ids.logs)).toBe(false);
    const referenced = new Set(statements.flatMap((statement) => referencedIds(statement.Resource)));
    expect([...referenced].sort()).toEqual([ids.bucket, ids.logs, ids.queue, ids.table].sort());
  });

  it('bundle: generated entry imports the task modules, then re-exports the handler, by absolute path', () => {
    const entry = readFileSync(stack.fanout.bundleEntry, 'utf8');
    const importAt = entry.indexOf(`import ${JSON.stringify(FIXTURE_TASKS)};`);
    const exportAt = entry.indexOf(`export { handler } from ${JSON.stringify(FIXTURE_HANDLER)};`);
    expect(importAt).toBeGreaterThan(-1);
    expect(exportAt).toBeGreaterThan(importAt);
  });

  it('bundle: a minified ESM index.mjs with source map and createRequire banner, whose handler sees the tasks', async () => {
    const code = template.toJSON().Resources[ids.fn].Properties.Code as { S3Key: string };
    const assetDir = join(app.outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
    const bundle = join(assetDir, 'index.mjs');
    expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
    const source = readFileSync(bundle, 'utf8');
    expect(source.startsWith("import { createRequire as __fanoutCreateRequire } from 'node:module';")).toBe(true);
    expect(source).toContain('//# sourceMappingURL=index.mjs.map');
    const { handler } = (await import(pathToFileURL(bundle).href)) as {
      handler: (event: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[]; knownTasks: string[] }>;
    };
    const event = {
      Records: [
        { messageId: 'known', body: JSON.stringify({ task: 'square' }) },
        { messageId: 'unknown', body: JSON.stringify({ task: 'noSuchTask' }) },
      ],
    } as SQSEvent;
    const response = await handler(event);
    const fixtureTasks = Object.values(await import('../fixtures/tasks.js')).map((task) => task.taskName);
    expect(response.knownTasks).toEqual(fixtureTasks.sort());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'unknown' }]);
  });
});

describe('Fanout construct with custom props', () => {
  let stack: Stack;
  let fanout: Fanout;
  let template: Template;

  beforeAll(() => {
    stack = new Stack(newApp(), 'Custom');
    fanout = new Fanout(stack, 'Work', {
      taskModules: [FIXTURE_TASKS, FIXTURE_TASKS],
      entry: FIXTURE_HANDLER,
      workerMemoryMb: 3538,
      architecture: lambda.Architecture.X86_64,
      workerTimeout: Duration.seconds(90),
      visibilityTimeout: Duration.hours(12),
      batchSize: 4,
      maxConcurrency: 2,
      maxReceiveCount: 7,
      retention: Duration.hours(49),
    });
    template = Template.fromStack(stack);
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

  it('uses the batch size and maximum concurrency given', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 4,
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
    const again = new Fanout(new Stack(newApp(), 'Again'), 'Work', { taskModules: [FIXTURE_TASKS], entry: FIXTURE_HANDLER });
    expect(again.bundleEntry).toBe(fanout.bundleEntry);
  });
});

describe('Fanout grants', () => {
  let template: Template;
  let ids: { queue: string; dlq: string; table: string; bucket: string; client: string; fleet: string };

  beforeAll(() => {
    const stack = new Stack(newApp(), 'Grants');
    const fanout = new Fanout(stack, 'Fanout', {
      taskModules: [FIXTURE_TASKS],
      entry: FIXTURE_HANDLER,
      retention: Duration.hours(1),
    });
    const client = new iam.Role(stack, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
    const fleet = new iam.Role(stack, 'Fleet', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    expect(fanout.grantClient(client).success).toBe(true);
    expect(fanout.grantWorker(fleet).success).toBe(true);
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
    };
  });

  it('a retention under a day still expires payloads after 1 day (the S3 minimum)', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 1 })] },
    });
  });

  it('grantClient: send to the task queue, read and write table and bucket, read the DLQ; not consume the task queue', () => {
    const statements = roleStatements(template, ids.client);
    expect(allows(statements, 'sqs:SendMessage', ids.queue)).toBe(true);
    expect(allows(statements, 'sqs:GetQueueAttributes', ids.queue)).toBe(true);
    expect(allows(statements, 'sqs:ReceiveMessage', ids.dlq)).toBe(true);
    expect(allows(statements, 'sqs:GetQueueAttributes', ids.dlq)).toBe(true);
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']) {
      expect(allows(statements, action, ids.table), action).toBe(true);
    }
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) {
      expect(allows(statements, action, ids.bucket, '/*'), action).toBe(true);
    }
    expect(allows(statements, 'sqs:ReceiveMessage', ids.queue)).toBe(false);
    expect(allows(statements, 'sqs:SendMessage', ids.dlq)).toBe(false);
  });

  it('grantWorker: consume the task queue, read and write table and bucket; not send, not the DLQ', () => {
    const statements = roleStatements(template, ids.fleet);
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes']) {
      expect(allows(statements, action, ids.queue), action).toBe(true);
    }
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']) {
      expect(allows(statements, action, ids.table), action).toBe(true);
    }
    for (const action of ['s3:GetObject', 's3:PutObject']) {
      expect(allows(statements, action, ids.bucket, '/*'), action).toBe(true);
    }
    expect(allows(statements, 'sqs:SendMessage', ids.queue)).toBe(false);
    expect(statements.some((statement) => referencedIds(statement.Resource).includes(ids.dlq))).toBe(false);
  });
});

import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Fanout, type FanoutProps } from './Fanout.js';

/** Properties of {@link FanoutStack}: the stack's own, plus the {@link Fanout} construct's. */
export interface FanoutStackProps extends StackProps, FanoutProps {}

/**
 * The names of the stack outputs that a fanout client reads (with `DescribeStacks`) to find
 * its resources. Each is also exported as `<stack name>-<output name>`. `ApiUrl` (the jobs
 * API's base URL, no trailing slash) is absent from a stack made with `api: false`.
 */
export const FANOUT_OUTPUTS = [
  'QueueUrl',
  'DeadLetterQueueUrl',
  'TableName',
  'BucketName',
  'WorkerFunctionName',
  'Region',
  'ApiUrl',
] as const;

/** One of {@link FANOUT_OUTPUTS}. */
export type FanoutOutputName = (typeof FANOUT_OUTPUTS)[number];

/**
 * A deployable stack holding one {@link Fanout} construct, with the outputs the aws backend
 * reads: `QueueUrl`, `DeadLetterQueueUrl`, `TableName`, `BucketName`, `WorkerFunctionName`
 * and `Region`, and `ApiUrl`, the jobs API's base URL (unless `api: false`).
 *
 * @example
 * ```ts
 * import { App } from 'aws-cdk-lib';
 * import { FanoutStack } from './infra/FanoutStack.js';
 *
 * new FanoutStack(new App(), 'Fanout', { taskModules: ['examples/primeTasks.ts'] });
 * ```
 */
export class FanoutStack extends Stack {
  /** The fanout resources. */
  public readonly fanout: Fanout;

  constructor(scope: Construct, id: string, props: FanoutStackProps) {
    super(scope, id, props);
    this.fanout = new Fanout(this, 'Fanout', props);

    const { apiUrl } = this.fanout;
    const outputs: Record<FanoutOutputName, { value: string; description: string } | undefined> = {
      QueueUrl: { value: this.fanout.queue.queueUrl, description: 'URL of the task queue (one message per chunk)' },
      DeadLetterQueueUrl: {
        value: this.fanout.deadLetterQueue.queueUrl,
        description: 'URL of the dead-letter queue (poison chunks)',
      },
      TableName: { value: this.fanout.table.tableName, description: 'DynamoDB table for jobs, results and shared state' },
      BucketName: { value: this.fanout.bucket.bucketName, description: 'S3 bucket for payloads too big for a message' },
      WorkerFunctionName: { value: this.fanout.workerFunction.functionName, description: 'The worker Lambda function' },
      Region: { value: this.region, description: 'The region of these resources' },
      ApiUrl:
        apiUrl === undefined
          ? undefined
          : { value: apiUrl, description: 'Base URL of the jobs API (SigV4-signed requests, service lambda): POST /jobs' },
    };
    for (const name of FANOUT_OUTPUTS) {
      const output = outputs[name];
      if (output) new CfnOutput(this, name, { ...output, exportName: `${this.stackName}-${name}` });
    }
  }
}
